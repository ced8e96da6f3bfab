import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLocal } from '../../src/environments/local-cleanup.js';
import { CLAIMS_DIR } from '../../src/jobs/claims.js';
import { trialResultSchema } from '../../src/results/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, pgrep, TmuxCli, trialRoots, waitUntil } from './helpers.js';

const sessions: TmuxCli[] = [];
const tmpdirs: string[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.kill();
  // Whatever a failed assertion left behind.
  for (const tmp of tmpdirs.splice(0)) await cleanupLocal({ baseDir: tmp });
});

// biome-ignore lint/suspicious/noExplicitAny: test reads of our own JSON files, checked field by field
async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('Ctrl-C during eval (real CLI in tmux)', () => {
  it('stops running trials, keeps finished ones, exits 130 with the resume command; --resume completes exactly the plan', async () => {
    const work = await tempDir('cancel');
    const tmp = join(work, 'tmp');
    tmpdirs.push(tmp);
    const results = join(work, 'results');
    // Round-robin plan: quick-a #1, sleepy #1, quick-a #2, sleepy #2, … — at concurrency 2, two quick trials finish, two
    // sleepy ones hang in solve.sh and two trials are still queued when Ctrl-C comes.
    const cli = await TmuxCli.start(
      [
        'eval',
        join(JOB_FIXTURES, 'quick-a'),
        join(JOB_FIXTURES, 'sleepy'),
        '--agent=oracle',
        '--provider=local',
        '--trials=3',
        '--concurrency=2',
        `--results-dir=${results}`,
      ],
      { tmpdir: tmp },
    );
    sessions.push(cli);
    const sleepers = `skill-eval-sleeper:${tmp}`;
    await cli.waitForScreen(/2\/6 done · 2 running/, 60_000);
    await waitUntil(() => (pgrep(sleepers).length === 2 ? true : undefined), 20_000, 'both sleepers');

    cli.sendKeys('C-c');
    expect(await cli.exitCode(20_000)).toBe(130);
    const screen = await cli.waitForScreen(/Resume with:/, 5_000);
    expect(screen).toContain('stopping: no new trials');
    expect(screen).toMatch(/stopped: 2\/6 trials done/);
    expect(screen).toMatch(/cancelled: 2 trials finished and saved in /);
    const resume = /skill-eval eval --resume (\S+) --results-dir (\S+)/.exec(screen);
    expect(resume?.[2]).toBe(results);
    const jobId = resume![1]!;
    const jobDir = join(results, 'jobs', jobId);

    // Nothing left running, no trial root left in the TMPDIR the CLI used.
    expect(pgrep(sleepers)).toEqual([]);
    expect(pgrep(tmp)).toEqual([]);
    expect(await trialRoots(tmp)).toEqual([]);
    // What finished is written: the two quick trials and a summary saying so; the cancelled ones have no result.
    const summary = await readJson(join(jobDir, 'summary.json'));
    expect(summary).toMatchObject({ planned: 6, finished: 2, statuses: { passed: 2 } });
    const quickFirst = await readJson(join(jobDir, 'quick-a__oracle__with-skills__1', 'result.json'));
    expect(existsSync(join(jobDir, 'sleepy__oracle__with-skills__1', 'result.json'))).toBe(false);
    // Queued trials never started.
    expect(existsSync(join(jobDir, 'quick-a__oracle__with-skills__3'))).toBe(false);

    // The printed command resumes; the sleep is shortened so the resumed trials finish quickly.
    const resumed = await runCli(
      ['eval', '--resume', jobId, '--results-dir', results, '--env', 'FIXTURE_SLEEP_SEC=0'],
      { env: { TMPDIR: tmp } },
    );
    expect(resumed.stderr).toContain(`resuming job ${jobId}`);
    expect(resumed.stderr).toContain('2 already done');
    expect(resumed.exitCode).toBe(0);
    const dirs = (await readdir(jobDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name !== CLAIMS_DIR)
      .map((e) => e.name)
      .sort();
    expect(dirs).toEqual(
      [1, 2, 3].flatMap((n) => [`quick-a__oracle__with-skills__${n}`, `sleepy__oracle__with-skills__${n}`]).sort(),
    );
    for (const dir of dirs) {
      const result = trialResultSchema.parse(await readJson(join(jobDir, dir, 'result.json')));
      expect(result.status).toBe('passed');
    }
    // Finished trials were kept, not re-run.
    expect((await readJson(join(jobDir, 'quick-a__oracle__with-skills__1', 'result.json'))).trial_id).toBe(
      quickFirst.trial_id,
    );
    expect(await readJson(join(jobDir, 'summary.json'))).toMatchObject({
      planned: 6,
      finished: 6,
      statuses: { passed: 6 },
    });
    expect(await trialRoots(tmp)).toEqual([]);
  }, 150_000); // its own waits add up to two minutes on a loaded machine (the whole suite runs beside it)

  it('a second Ctrl-C forces the exit (130) while trials are still being stopped, and says how to clean up and resume', async () => {
    const work = await tempDir('cancel-force');
    const tmp = join(work, 'tmp');
    tmpdirs.push(tmp);
    const results = join(work, 'results');
    const cli = await TmuxCli.start(
      [
        'eval',
        join(JOB_FIXTURES, 'stubborn'),
        '--agent=oracle',
        '--provider=local',
        '--trials=1',
        `--results-dir=${results}`,
      ],
      // Unsandboxed: in the local sandbox the sleeper dies with the CLI (tests/environments/local-sandbox.test.ts).
      { tmpdir: tmp, env: { SKILL_EVAL_LOCAL_SANDBOX: '0' } },
    );
    sessions.push(cli);
    const stubborn = `skill-eval-stubborn:${tmp}`;
    await waitUntil(() => (pgrep(stubborn).length === 1 ? true : undefined), 60_000, 'the stubborn sleeper');

    cli.sendKeys('C-c');
    // The stubborn trial ignores SIGTERM: the graceful stop now waits out the kill grace period…
    await cli.waitForScreen(/stopping: no new trials/, 10_000);
    cli.sendKeys('C-c');
    // …which the second Ctrl-C cuts short: the stubborn sleeper is still there when the CLI has exited.
    expect(await cli.exitCode(10_000)).toBe(130);
    expect(pgrep(stubborn)).toHaveLength(1);
    const screen = await cli.waitForScreen(/Resume with:/, 5_000);
    expect(screen).toMatch(
      /forced exit: finished trials are saved in \S+; running trials may have left processes or temp dirs \(skill-eval cleanup removes them\)/,
    );
    expect(screen).toMatch(/skill-eval eval --resume \S+ --results-dir /);

    // What the message promises: cleanup removes what the forced exit left.
    await cleanupLocal({ baseDir: tmp });
    await waitUntil(() => (pgrep(stubborn).length === 0 ? true : undefined), 5_000, 'no stubborn sleeper');
    expect(await trialRoots(tmp)).toEqual([]);
  });
});
