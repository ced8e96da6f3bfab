/**
 * `submit slurm` on a real Slurm cluster: the single-node one scripts/setup/slurm.sh starts (slurmctld and slurmd on
 * this machine). A 24-trial job (local provider, oracle) runs as an array of 3 workers; each trial's solve.sh appends
 * a line to a counter file outside its workspace, so a trial that ran twice shows. Killing one worker mid-run loses
 * nothing: the others take its trials over.
 */
import { execFileSync } from 'node:child_process';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/jobs/job-status.js';
import { trialResultSchema } from '../../src/results/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, pgrep, waitUntil } from '../jobs/helpers.js';

const TASKS = ['count-a', 'count-b', 'count-c', 'count-d'];
/** 4 tasks × oracle × 2 arms × 3 trials. */
const TRIALS = 24;
/** Trials each worker runs at once. */
const CONCURRENCY = 2;

function slurm(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', timeout: 20_000 }).trim();
}

beforeAll(() => {
  // Not a skip: without the cluster this test cannot say anything, and the suite must say so.
  try {
    slurm('sinfo', ['--version']);
    slurm('scontrol', ['ping']);
  } catch (error) {
    throw new Error(`no Slurm cluster answers here: run scripts/setup/slurm.sh (${String(error)})`);
  }
});

/** Four copies of a quick fixture task whose solve.sh sleeps, then appends `<task>` to `counter`. */
async function countingTasks(work: string, counter: string, sleepSec: number): Promise<string[]> {
  const dirs: string[] = [];
  for (const name of TASKS) {
    const dir = join(work, 'tasks', name);
    await cp(join(JOB_FIXTURES, 'quick-a'), dir, { recursive: true });
    const toml = await readFile(join(dir, 'task.toml'), 'utf8');
    await writeFile(join(dir, 'task.toml'), toml.replace('name = "quick-a"', `name = "${name}"`));
    await writeFile(
      join(dir, 'solution', 'solve.sh'),
      `#!/usr/bin/env bash\nsleep ${sleepSec}\necho ${name} >> ${counter}\necho solved > solved.txt\n`,
    );
    dirs.push(dir);
  }
  return dirs;
}

/** `eval --plan-only` of the counting tasks: the job dir, with nothing run. */
async function planJob(work: string, name: string, sleepSec: number): Promise<{ jobDir: string; counter: string }> {
  const counter = join(work, `${name}.count`);
  const tasks = await countingTasks(join(work, name), counter, sleepSec);
  const results = join(work, 'results');
  const plan = await runCli([
    'eval',
    ...tasks,
    '--agent=oracle',
    '--provider=local',
    '--compare',
    '--trials=3',
    `--job-name=${name}`,
    `--results-dir=${results}`,
    '--plan-only',
  ]);
  expect(plan.exitCode, plan.stderr).toBe(0);
  const jobDir = join(results, 'jobs', name);
  expect(plan.stdout.trim()).toBe(jobDir);
  return { jobDir, counter };
}

/** The solve.sh side effects: one line per run of a trial. */
async function counted(counter: string): Promise<string[]> {
  return (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

async function submit(jobDir: string): Promise<string> {
  // The workers inherit this environment (sbatch --export=ALL): the counter is outside the workspace, where the
  // bubblewrap sandbox would not let solve.sh write, so it is off for these trials.
  const run = await runCli(
    [
      'submit',
      'slurm',
      jobDir,
      '--workers=3',
      `--concurrency=${CONCURRENCY}`,
      '--partition=debug',
      '--stale-claim-timeout=5',
      '--',
      '--time=10',
    ],
    {
      env: { SKILL_EVAL_LOCAL_SANDBOX: 'off' },
    },
  );
  expect(run.exitCode, run.stderr).toBe(0);
  const id = /^submitted Slurm job (\d+)/m.exec(run.stdout)?.[1];
  expect(id, run.stdout).toBeDefined();
  expect(run.stdout).toContain(`follow it: skill-eval status ${jobDir}`);
  // The option after `--` reached sbatch.
  expect(slurm('scontrol', ['show', 'job', id!])).toMatch(/TimeLimit=00:10:00/);
  return id!;
}

async function slurmJobGone(id: string, timeoutMs: number): Promise<void> {
  await waitUntil(
    () => slurm('squeue', ['--noheader', `--jobs=${id}`, '--format=%i %T']) === '' || undefined,
    timeoutMs,
    `Slurm job ${id} to leave the queue`,
    500,
  );
}

/** Every planned trial has exactly one directory with a passed result. */
async function expectAllPassed(jobDir: string): Promise<void> {
  const trialDirs = (await readdir(jobDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && entry.name.includes('__oracle__'))
    .map((entry) => entry.name);
  expect(trialDirs).toHaveLength(TRIALS);
  for (const dir of trialDirs) {
    const result = trialResultSchema.parse(JSON.parse(await readFile(join(jobDir, dir, 'result.json'), 'utf8')));
    expect(result, dir).toMatchObject({ trial_name: dir, status: 'passed', reward: 1 });
  }
}

/** `skill-eval status JOB_DIR --json`: progress across the workers. */
async function status(jobDir: string): Promise<JobStatus> {
  const run = await runCli(['status', jobDir, '--json']);
  expect(run.exitCode, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as JobStatus;
}

async function expectFinished(jobDir: string): Promise<void> {
  const after = await status(jobDir);
  expect(after).toMatchObject({ planned: TRIALS, done: TRIALS, running: 0, stale: 0, pending: 0, finalized: true });
  expect(after.statuses).toEqual({ passed: TRIALS });
}

async function workerLogs(jobDir: string, id: string): Promise<string[]> {
  const dir = join(jobDir, 'slurm');
  const names = (await readdir(dir)).filter((name) => name.startsWith(`worker-${id}_`)).sort();
  return Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
}

describe('submit slurm on a real Slurm cluster', () => {
  it('exits 3 with sbatch’s own words when sbatch refuses the job', async () => {
    const work = await tempDir('slurm-refused');
    const { jobDir } = await planJob(work, 'slurm-refused', 0);
    const run = await runCli(['submit', 'slurm', jobDir, '--workers=2', '--partition=no-such-partition']);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/^error: sbatch refused the job: sbatch: error: .*invalid partition/im);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('runs a 24-trial job with 3 workers of an array job, each trial exactly once', async () => {
    const work = await tempDir('slurm');
    const { jobDir, counter } = await planJob(work, 'slurm-once', 0.3);
    const id = await submit(jobDir);
    await slurmJobGone(id, 150_000);

    const logs = await workerLogs(jobDir, id);
    expect(logs, 'one log per array task').toHaveLength(3);
    for (const log of logs) expect(log).toMatch(/^skill-eval worker: Slurm job \d+ task [0-2] on /);
    await expectAllPassed(jobDir);
    await expectFinished(jobDir);
    const lines = await counted(counter);
    expect(lines).toHaveLength(TRIALS);
    for (const task of TASKS)
      expect(
        lines.filter((line) => line === task),
        task,
      ).toHaveLength(6);
    const record = JSON.parse((await readFile(join(jobDir, 'slurm', 'submissions.jsonl'), 'utf8')).trim());
    expect(record).toMatchObject({ slurm_job_id: id, workers: 3 });
  }, 200_000);

  it('loses nothing when one worker is killed mid-run: the others take its trials over', async () => {
    const work = await tempDir('slurm-kill');
    // Trials of 3 s: 24 of them on 3 × 2 slots leave time to look at the job and kill a worker mid-run.
    const { jobDir, counter } = await planJob(work, 'slurm-kill', 3);
    const id = await submit(jobDir);
    // Some trials are done and every worker is busy: kill one of them (its node process, SIGKILL).
    await waitUntil(async () => (await counted(counter)).length >= 2 || undefined, 90_000, 'two trials', 200);
    const workers = await waitUntil(
      () => {
        const found = pgrep(`skill-eval.js worker ${jobDir}`);
        return found.length === 3 ? found : undefined;
      },
      30_000,
      'three running workers',
      200,
    );
    // status sees the three workers of the array job, and their claims.
    const during = await status(jobDir);
    expect(
      during.workers
        .filter((worker) => worker.alive)
        .map((worker) => worker.owner.pid)
        .sort(),
    ).toEqual(workers.map((line) => Number(line.split(' ')[0])).sort());
    expect(during.done).toBeLessThan(TRIALS);
    const victim = Number(workers[0]!.split(' ')[0]);
    process.kill(victim, 'SIGKILL');
    expect((await counted(counter)).length, 'killed mid-run').toBeLessThan(TRIALS);
    await slurmJobGone(id, 150_000);

    // A surviving worker says which trials it took over, and from whom.
    const logs = (await workerLogs(jobDir, id)).join('\n');
    expect(logs).toMatch(
      new RegExp(`took over \\S+ from \\S+ pid ${victim}: its owner, process ${victim} on this host, is gone`),
    );

    await expectAllPassed(jobDir);
    await expectFinished(jobDir);
    // The killed worker's trials in flight (at most CONCURRENCY) may have appended their lines (their solve.sh
    // outlives the worker, unsandboxed) and then run again elsewhere; nothing else runs twice.
    const lines = await counted(counter);
    expect(lines.length).toBeGreaterThanOrEqual(TRIALS);
    expect(lines.length).toBeLessThanOrEqual(TRIALS + CONCURRENCY);
    for (const task of TASKS) expect(new Set(lines).has(task), task).toBe(true);
  }, 200_000);
});
