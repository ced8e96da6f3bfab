import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';

const NO_KEYS = { ANTHROPIC_API_KEY: undefined, GEMINI_API_KEY: undefined, OPENAI_API_KEY: undefined };

// biome-ignore lint/suspicious/noExplicitAny: test reads of our own JSON files, checked field by field
async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** A copy of the trivial task whose solution prints a variable: what the agent received shows in its log. */
async function echoTask(root: string): Promise<string> {
  const dir = join(root, 'echo-task');
  await cp(join(FIXTURES, 'jobs', 'trivial'), dir, { recursive: true });
  await writeFile(
    join(dir, 'solution', 'solve.sh'),
    '#!/usr/bin/env bash\necho "got $DOTENV_VALUE"\necho ok > solved.txt\n',
  );
  return dir;
}

describe('skill-eval eval: presets, .env, the agent from the key, --validate', () => {
  it('--smoke runs 5 trials; a .env value reaches the agent and is redacted wherever it is written', async () => {
    const root = await tempDir('cli-flags');
    await echoTask(root);
    await writeFile(join(root, '.env'), '# for the test\nDOTENV_VALUE="dotenv-secret-4321"\n');
    const results = join(root, 'results');
    const run = await runCli(
      [
        'eval',
        'echo-task',
        '--agent=oracle',
        '--provider=local',
        '--smoke',
        '--no-skills',
        `--results-dir=${results}`,
        '--json',
      ],
      { cwd: root, env: { ...NO_KEYS, DOTENV_VALUE: undefined } },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^read \.env$/m);
    const summary = JSON.parse(run.stdout);
    expect(summary.finished).toBe(5);
    const job = await readJson(join(summary.job_dir, 'job.json'));
    expect(job.trials).toBe(5);
    expect(job.forwarded_env).toContain('DOTENV_VALUE');
    const trial = (await readJson(join(summary.job_dir, 'summary.json'))).cells[0];
    expect(trial.passed).toBe(5);
    const sessions = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        readFile(join(summary.job_dir, `echo-task__oracle__no-skills__${i}`, 'session.jsonl'), 'utf8'),
      ),
    );
    for (const session of sessions) {
      expect(session).toContain('got [REDACTED]');
      expect(session).not.toContain('dotenv-secret-4321');
    }
  });

  it('a preset with --trials, or two keys (one in the shell, one in .env) without --agent, is a usage error', async () => {
    const root = await tempDir('cli-flags-errors');
    await echoTask(root);
    const conflict = await runCli(['eval', 'echo-task', '--smoke', '--trials=3', '--agent=oracle'], {
      cwd: root,
      env: NO_KEYS,
    });
    expect(conflict.exitCode).toBe(2);
    expect(conflict.stderr).toMatch(/^error: --smoke sets --trials=5; it cannot be combined with --trials$/m);

    await writeFile(join(root, '.env'), 'GEMINI_API_KEY=g-from-file-1234\n');
    const ambiguous = await runCli(['eval', 'echo-task', '--provider=local'], {
      cwd: root,
      env: { ...NO_KEYS, ANTHROPIC_API_KEY: 'sk-ant-shell-5678' },
    });
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toMatch(
      /^error: several API keys are set \(ANTHROPIC_API_KEY, GEMINI_API_KEY\): which agent should run\?$/m,
    );
    expect(ambiguous.stderr).toMatch(/pass --agent, e\.g\. --agent=claude or --agent=gemini/);
  });

  it('--validate leaves out the tasks that fail the oracle/nop check, runs the rest, exits 2', async () => {
    const results = await tempDir('cli-validate');
    const run = await runCli(
      [
        'eval',
        join(FIXTURES, 'check'),
        '--agent=oracle',
        '--provider=local',
        '--trials=1',
        '--validate',
        `--results-dir=${results}`,
      ],
      { env: NO_KEYS },
    );
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/broken-solution: left out by --validate: oracle did not pass every trial/);
    expect(run.stderr).toMatch(/rewards-nothing-done: left out by --validate: nop passed/);
    expect(run.stdout).toMatch(/healthy \| oracle \| with-skills \| 1\s+\| 1\/1/);
    expect(run.stdout).not.toMatch(/broken-solution \| oracle/);
  });
});
