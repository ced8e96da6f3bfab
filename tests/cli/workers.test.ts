import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAIMS_DIR, ClaimBook, currentClaim } from '../../src/jobs/claims.js';
import { type JobStatus, jobStatus } from '../../src/jobs/job-status.js';
import { trialResultSchema } from '../../src/results/schema.js';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, waitUntil } from '../jobs/helpers.js';

const TASK = join(JOB_FIXTURES, 'counted');

interface Setup {
  dir: string;
  countFile: string;
  env: Record<string, string>;
  jobDir: (name: string) => string;
}

/** A results dir and a count file outside every workspace; the local provider unsandboxed so solve.sh reaches it. */
async function setup(prefix: string, sleepSec = 0.3): Promise<Setup> {
  const dir = await tempDir(prefix);
  const countFile = join(dir, 'count.txt');
  return {
    dir,
    countFile,
    env: { COUNT_FILE: countFile, FIXTURE_SLEEP_SEC: String(sleepSec), SKILL_EVAL_LOCAL_SANDBOX: '0' },
    jobDir: (name) => join(dir, 'results', 'jobs', name),
  };
}

function evalArgs(s: Setup, job: string, trials: number, ...extra: string[]): string[] {
  return [
    'eval',
    TASK,
    '--agent=oracle',
    '--provider=local',
    '--no-skills',
    `--trials=${trials}`,
    `--job-name=${job}`,
    '--env=COUNT_FILE',
    '--env=FIXTURE_SLEEP_SEC',
    '--results-dir',
    join(s.dir, 'results'),
    ...extra,
  ];
}

async function runs(countFile: string): Promise<number> {
  if (!existsSync(countFile)) return 0;
  return (await readFile(countFile, 'utf8')).split('\n').filter(Boolean).length;
}

const names = (trials: number): string[] =>
  Array.from({ length: trials }, (_, i) => `counted__oracle__no-skills__${i + 1}`).sort();

/** Exactly the planned trial dirs, one passed result each under its own name, claims done, summary complete. */
async function expectConsistentJob(jobDir: string, trials: number): Promise<void> {
  const dirs = (await readdir(jobDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && e.name !== CLAIMS_DIR)
    .map((e) => e.name)
    .sort();
  expect(dirs).toEqual(names(trials));
  const ids = new Set<string>();
  for (const name of dirs) {
    const result = trialResultSchema.parse(JSON.parse(await readFile(join(jobDir, name, 'result.json'), 'utf8')));
    expect(result).toMatchObject({ trial_name: name, status: 'passed' });
    ids.add(result.trial_id);
    expect(currentClaim(jobDir, name).record?.state).toBe('done');
  }
  expect(ids.size).toBe(trials);
  const summary = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8'));
  expect(summary).toMatchObject({ finished: trials, statuses: { passed: trials } });
  for (const report of summary.reports as string[]) expect(existsSync(join(jobDir, report))).toBe(true);
}

/** In process: tests poll it (the CLI's own output is checked once, below). */
const status = (jobDir: string): Promise<JobStatus> => jobStatus(jobDir);

// CLI start-up alone takes seconds on a busy machine; the join test's trials last 30 s.
describe('many processes on one job', { timeout: 240_000 }, () => {
  it('two evals of the same job started at the same instant: each trial runs once, both exit 0', async () => {
    const s = await setup('workers-same-instant');
    const args = evalArgs(s, 'twin', 8, '--concurrency=2');
    const [a, b] = await Promise.all([runCli(args, { env: s.env }), runCli(args, { env: s.env })]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(await runs(s.countFile)).toBe(8);
    await expectConsistentJob(s.jobDir('twin'), 8);
    // Both print the whole job's summary, not their own share.
    for (const run of [a, b]) expect(run.stdout).toMatch(/8\/8/);
  });

  it('--no-join refuses a running job; a plain eval joins it, saying so; status shows who runs what', async () => {
    // Long trials: the CLI's start-up takes seconds on a busy machine, and the first eval must still be running.
    const s = await setup('workers-join', 30);
    const first = startCli(evalArgs(s, 'shared', 2, '--concurrency=1'), { env: s.env });
    const jobDir = s.jobDir('shared');
    await waitUntil(
      async () => (existsSync(join(jobDir, 'job.json')) ? (await status(jobDir)).running > 0 || undefined : undefined),
      60_000,
      'a running trial',
      200,
    );
    const cli = await runCli(['status', jobDir, '--json']);
    expect(cli.exitCode, cli.stderr).toBe(0);
    const seen = JSON.parse(cli.stdout) as JobStatus;
    expect(seen).toMatchObject({ planned: 2, running: 1, pending: 1, done: 0 });
    expect(seen.trials.find((t) => t.state === 'running')?.owner).toMatchObject({ pid: first.pid, host: hostname() });
    expect(seen.workers.map((w) => [w.owner.pid, w.command, w.alive])).toEqual([[first.pid, 'eval', true]]);

    const refused = await runCli(evalArgs(s, 'shared', 2, '--no-join'), { env: s.env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`job shared is being run by ${hostname()} pid ${first.pid}.*--no-join`));

    const joined = await runCli(evalArgs(s, 'shared', 2, '--concurrency=1'), { env: s.env });
    expect(joined.stderr).toMatch(
      new RegExp(`joining job shared as a worker alongside ${hostname()} pid ${first.pid} \\(eval\\)`),
    );
    expect(joined.exitCode, joined.stderr).toBe(0);
    expect((await first.result).exitCode).toBe(0);
    expect(await runs(s.countFile)).toBe(2);
    await expectConsistentJob(jobDir, 2);
    const human = await runCli(['status', jobDir]);
    expect(human.stdout).toMatch(/2 done \(2 passed\), 0 running, 0 pending/);
    expect(human.stdout).toMatch(/complete/);
  });

  it('eval --plan-only, then workers; a kill -9 of one mid-job loses nothing: its trial is picked up', async () => {
    const s = await setup('workers-kill', 2);
    const planned = await runCli(evalArgs(s, 'spread', 9, '--plan-only'), { env: s.env });
    expect(planned.exitCode, planned.stderr).toBe(0);
    const jobDir = s.jobDir('spread');
    expect(planned.stdout.trim()).toBe(jobDir);
    expect(await runs(s.countFile)).toBe(0);
    expect((await status(jobDir)).pending).toBe(9);

    const worker = () => startCli(['worker', jobDir, '--concurrency=1'], { env: s.env });
    const runningBy = async (pid: number) =>
      (await status(jobDir)).trials.some((t) => t.state === 'running' && t.owner?.pid === pid);
    // The victim first (on a busy machine the others could otherwise run everything before it starts), then the
    // others; it is killed while it and another worker both run a trial.
    const victim = worker();
    await waitUntil(() => runningBy(victim.pid).then((yes) => yes || undefined), 90_000, "the victim's trial", 100);
    const others = [worker(), worker()];
    await waitUntil(
      async () => ((await runningBy(victim.pid)) && (await runningBy(others[0]!.pid))) || undefined,
      90_000,
      'the victim and another worker running trials',
      100,
    );
    process.kill(victim.pid, 'SIGKILL');
    await victim.result;
    const ended = await Promise.all(others.map((w) => w.result));
    for (const run of ended) expect(run.exitCode, run.stderr).toBe(0);
    expect(ended.map((r) => r.stderr).join('\n')).toMatch(/took over counted__oracle__no-skills__\d from .*is gone/);
    await expectConsistentJob(jobDir, 9);
    // The killed trial ran twice at most (its solve.sh may have started before the kill); every other once.
    const count = await runs(s.countFile);
    expect(count).toBeGreaterThanOrEqual(9);
    expect(count).toBeLessThanOrEqual(10);
    // Only the victim's entry is left, and it is known dead.
    expect((await status(jobDir)).workers.map((w) => [w.owner.pid, w.alive])).toEqual([[victim.pid, false]]);
  });

  it("takes over stale claims: a dead process's on this host, another host's with an expired heartbeat", async () => {
    const s = await setup('workers-stale');
    const planned = await runCli(evalArgs(s, 'stale', 3, '--plan-only'), { env: s.env });
    expect(planned.exitCode, planned.stderr).toBe(0);
    const jobDir = s.jobDir('stale');
    const dead = spawnSync('true').pid!;
    const long = new Date(Date.now() - 3_600_000).toISOString();
    const plant = async (trial: string, owner: object, heartbeatAt: string) => {
      await mkdir(join(jobDir, CLAIMS_DIR, trial), { recursive: true });
      const record = { trial, generation: 1, owner, state: 'running', started_at: long, heartbeat_at: heartbeatAt };
      await writeFile(join(jobDir, CLAIMS_DIR, trial, '1.json'), JSON.stringify({ ...record, beat: 3 }));
    };
    const [t1, t2] = names(3);
    await plant(t1!, { host: hostname(), pid: dead, worker: 'gone' }, new Date().toISOString());
    await plant(t2!, { host: 'node-that-died', pid: 4242, worker: 'far' }, long);
    const before = await status(jobDir);
    expect(before.stale).toBe(2);

    const run = await runCli(['worker', jobDir, '--stale-claim-timeout=2'], { env: s.env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`took over ${t1} from ${hostname()} pid ${dead}: .*is gone`));
    expect(run.stderr).toMatch(new RegExp(`took over ${t2} from node-that-died pid 4242: .*s old`));
    expect(await runs(s.countFile)).toBe(3);
    await expectConsistentJob(jobDir, 3);
  });

  it('worker --no-wait leaves a trial another live process holds, says so and exits 5; a worker then finishes', async () => {
    const s = await setup('workers-nowait');
    const planned = await runCli(evalArgs(s, 'nowait', 3, '--plan-only'), { env: s.env });
    expect(planned.exitCode, planned.stderr).toBe(0);
    const jobDir = s.jobDir('nowait');
    // This test's own process holds trial 2: alive on this host, so never taken over.
    const holder = new ClaimBook(jobDir);
    const held = holder.tryClaim(names(3)[1]!).held!;
    const left = await runCli(['worker', jobDir, '--no-wait'], { env: s.env });
    expect(left.exitCode, left.stderr).toBe(5);
    expect(left.stderr).toMatch(
      new RegExp(
        `job nowait is not complete: 1 trial\\(s\\) are still claimed by other workers \\(${hostname()} pid ${process.pid}\\)`,
      ),
    );
    expect(await runs(s.countFile)).toBe(2);
    expect(existsSync(join(jobDir, 'summary.json'))).toBe(true);
    holder.release(held, 'released');
    const rest = await runCli(['worker', jobDir, '--no-wait'], { env: s.env });
    expect(rest.exitCode, rest.stderr).toBe(0);
    expect(await runs(s.countFile)).toBe(3);
    await expectConsistentJob(jobDir, 3);
  });
});
