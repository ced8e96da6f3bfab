import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/errors.js';
import { ClaimBook } from '../../src/jobs/claims.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, pgrep, waitUntil } from '../jobs/helpers.js';

/**
 * Every code of docs/exit-codes.md, triggered through the real CLI without a Docker engine or an API key. The
 * codes tested are read from the doc's table, so a code documented without a test here fails.
 */

const DEMO = join(REPO_ROOT, 'tasks/superlint_demo');
const MIXED = join(REPO_ROOT, 'tests/fixtures/tasks-mixed');

/** A PATH whose `npm` always fails, as with an unreachable registry; and an empty agent cache, so npm is needed. */
async function brokenNpm(): Promise<Record<string, string>> {
  const dir = await tempDir('broken-npm');
  await mkdir(join(dir, 'bin'));
  const npm = join(dir, 'bin', 'npm');
  await writeFile(npm, '#!/bin/sh\necho "npm error code ECONNREFUSED (test double)" >&2\nexit 1\n');
  await chmod(npm, 0o755);
  return { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, SKILL_EVAL_CACHE_DIR: join(dir, 'cache') };
}

describe('exit codes (docs/exit-codes.md)', () => {
  it('documents exactly the codes of EXIT_CODES, and this file tests each of them', async () => {
    const docs = await readFile(join(REPO_ROOT, 'docs/exit-codes.md'), 'utf8');
    const documented = [...docs.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual([...new Set(Object.values(EXIT_CODES))].sort((a, b) => a - b));
    const source = await readFile(import.meta.filename, 'utf8');
    for (const code of documented) expect(source, `a test named "exits ${code}"`).toContain(`it('exits ${code}:`);
  });

  it('exits 0: done (a valid task validated; oracle trials ran)', async () => {
    expect((await runCli(['tasks', 'validate', DEMO])).exitCode).toBe(0);
    const run = await runCli([
      'eval',
      DEMO,
      '--agent=oracle',
      '--provider=local',
      '--trials=1',
      `--results-dir=${await tempDir('exit-0')}`,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('exits 1: a gate was not met (eval --fail-under, analyze --fail-under)', async () => {
    const run = await runCli([
      'eval',
      DEMO,
      '--agent=nop',
      '--provider=local',
      '--trials=1',
      '--fail-under=0.5',
      `--results-dir=${await tempDir('exit-1')}`,
    ]);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/gate: superlint_demo with-skills 0\.0% below --fail-under 50\.0%/);
    const analyze = await runCli(['analyze', join(REPO_ROOT, 'tests/fixtures/results/jobs'), '--fail-under=0.9']);
    expect(analyze.exitCode, analyze.stderr).toBe(1);
    expect(analyze.stderr).toContain('gate FAILED');
  });

  it('exits 2: usage or task-format error (unknown flag, --trials=0, a malformed task.toml)', async () => {
    const flag = await runCli(['eval', '--no-such-flag']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--no-such-flag'/);
    expect((await runCli(['eval', DEMO, '--trials=0'])).exitCode).toBe(2);
    const toml = await runCli(['tasks', 'validate', join(MIXED, 'bad_toml_syntax')]);
    expect(toml.exitCode).toBe(2);
    expect(toml.stdout + toml.stderr).toMatch(/task\.toml/);
  });

  it('exits 3: infrastructure error (no Docker engine; a trial ended as infra_error, its result written)', async () => {
    const engine = await runCli(['eval', DEMO, '--agent=oracle', '--provider=docker', '--trials=1'], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(engine.exitCode, engine.stderr).toBe(3);
    expect(engine.stderr).toMatch(/\/nonexistent\/docker\.sock/);

    // The local provider makes each trial's directory under TMPDIR: a file there fails every trial as infra.
    const scratch = await tempDir('exit-3');
    const notADirectory = join(scratch, 'not-a-directory');
    await writeFile(notADirectory, '');
    const results = join(scratch, 'results');
    const trial = await runCli(
      ['eval', DEMO, '--agent=oracle', '--provider=local', '--trials=1', '--max-retries=0', `--results-dir=${results}`],
      // tsx keeps its cache under TMPDIR too.
      { env: { TMPDIR: notADirectory, TSX_DISABLE_CACHE: '1' } },
    );
    expect(trial.exitCode, trial.stderr).toBe(3);
    expect(trial.stderr).toMatch(/1 trial\(s\) ended in an infrastructure error/);
    const [job] = await readdir(join(results, 'jobs'));
    const result = JSON.parse(
      await readFile(join(results, 'jobs', job!, 'superlint_demo__oracle__with-skills__1', 'result.json'), 'utf8'),
    ) as { status: string };
    expect(result.status).toBe('infra_error');
  });

  it('exits 4: an agent CLI cannot be installed (agents install; eval before any trial)', async () => {
    const env = await brokenNpm();
    const install = await runCli(['agents', 'install', 'claude'], { env });
    expect(install.exitCode, install.stderr).toBe(4);
    expect(install.stderr).toMatch(/error: the claude agent CLI could not be installed: npm install .* failed/);
    expect(install.stderr).toContain('check that npm can reach it');

    const results = await tempDir('exit-4');
    const run = await runCli(
      ['eval', DEMO, '--agent=claude', '--provider=local', '--trials=1', `--results-dir=${results}`],
      { env: { ...env, ANTHROPIC_API_KEY: 'sk-test-not-used' } },
    );
    expect(run.exitCode, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/error: the claude agent CLI could not be installed/);
  });

  it('exits 5: the job is not complete, other workers hold its remaining trials (worker --no-wait)', async () => {
    const results = await tempDir('exit-5');
    const planned = await runCli([
      'eval',
      DEMO,
      '--agent=oracle',
      '--provider=local',
      '--no-skills',
      '--trials=2',
      '--job-name=held',
      '--plan-only',
      `--results-dir=${results}`,
    ]);
    expect(planned.exitCode, planned.stderr).toBe(0);
    const jobDir = join(results, 'jobs', 'held');
    // This test's process holds the second trial: alive on this host, so no worker takes it over.
    const holder = new ClaimBook(jobDir);
    const held = holder.tryClaim('superlint_demo__oracle__no-skills__2').held;
    expect(held).toBeDefined();
    const left = await runCli(['worker', jobDir, '--no-wait']);
    holder.release(held!, 'released');
    expect(left.exitCode, left.stderr).toBe(5);
    expect(left.stderr).toMatch(/job held is not complete: 1 trial\(s\) are still claimed by other workers/);
  });

  it('exits 130: interrupted (SIGTERM during a trial: it is stopped, the message says how to resume)', async () => {
    const tmp = await tempDir('exit-130');
    const child = execa(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'src/cli/main.ts'),
        'eval',
        join(JOB_FIXTURES, 'sleepy'),
        '--agent=oracle',
        '--provider=local',
        '--trials=1',
        `--results-dir=${join(tmp, 'results')}`,
      ],
      { cwd: REPO_ROOT, env: { TMPDIR: tmp, FORCE_COLOR: '0' }, reject: false, stdin: 'ignore', timeout: 120_000 },
    );
    const sleeper = `skill-eval-sleeper:${tmp}`;
    await waitUntil(() => pgrep(sleeper).length === 1, 60_000, 'the trial to be running');
    child.kill('SIGTERM');
    const run = await child;
    expect(run.exitCode, String(run.stderr)).toBe(130);
    expect(String(run.stderr)).toMatch(/Resume with:\n\s+skill-eval eval --resume \S+/);
    expect(pgrep(sleeper)).toEqual([]);
  });
});
