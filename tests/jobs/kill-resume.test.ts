import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { cleanupLocal } from '../../src/environments/local-cleanup.js';
import { trialResultSchema } from '../../src/results/schema.js';
import { mulberry32 } from '../../src/util/random.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, pgrep, trialRoots } from './helpers.js';

const KILLS = 20;
/** Most kills land while trials run: up to this long after the plan is announced (a trial takes 0.5–1 s). */
const RUNNING_WINDOW_MS = 2_000;
/** The rest land during start-up (loading tasks, reading the job, scanning finished trials, writing job.json). */
const STARTUP_SHARE = 0.2;

interface KillPoint {
  /** `startup`: `ms` after spawn; `running`: `ms` after the "trials planned" line. */
  phase: 'startup' | 'running';
  ms: number;
}

/** Runs the CLI until it exits or the kill point comes, then SIGKILLs it. */
async function runAndMaybeKill(
  args: string[],
  env: NodeJS.ProcessEnv,
  at: KillPoint,
): Promise<{ killed: boolean; exitCode: number | null; stdout: string; stderr: string; plannedAfterMs?: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let plannedAfterMs: number | undefined;
  let onPlanned: () => void = () => undefined;
  const planned = new Promise<void>((resolve) => (onPlanned = resolve));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (plannedAfterMs === undefined && stderr.includes('trials planned')) {
      plannedAfterMs = performance.now() - started;
      onPlanned();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killPoint = at.phase === 'startup' ? delay(at.ms) : planned.then(() => delay(at.ms));
  const outcome = await Promise.race([exited.then((code) => ({ code })), killPoint.then(() => undefined)]);
  if (outcome) return { killed: false, exitCode: outcome.code, stdout, stderr, plannedAfterMs };
  child.kill('SIGKILL');
  await exited;
  return { killed: true, exitCode: null, stdout, stderr, plannedAfterMs };
}

const PLANNED = ['quick-a', 'quick-b']
  .flatMap((task) =>
    ['with-skills', 'no-skills'].flatMap((arm) => [1, 2, 3].map((n) => `${task}__oracle__${arm}__${n}`)),
  )
  .sort();

/** A completed job holds exactly the planned trials, each with one valid result, and a summary that agrees. */
async function expectCompleteJob(jobDir: string, jobId: string): Promise<void> {
  const trialDirs = (await readdir(jobDir, { withFileTypes: true }))
    // claims/: which process ran (or runs) each trial (docs/scale.md)
    .filter((e) => e.isDirectory() && e.name !== 'claims')
    .map((e) => e.name)
    .sort();
  expect(trialDirs, jobId).toEqual(PLANNED);
  const trialIds = new Set<string>();
  for (const dir of trialDirs) {
    const result = trialResultSchema.parse(JSON.parse(await readFile(join(jobDir, dir, 'result.json'), 'utf8')));
    expect(result).toMatchObject({ trial_name: dir, job_id: jobId, status: 'passed', reward: 1 });
    trialIds.add(result.trial_id);
  }
  expect(trialIds.size).toBe(PLANNED.length);
  const summary = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8'));
  expect(summary).toMatchObject({ job_id: jobId, planned: 12, finished: 12, statuses: { passed: 12 } });
  expect(summary.cells).toHaveLength(4);
  for (const cell of summary.cells)
    expect(cell).toMatchObject({ trials: 3, passed: 3, failed: 0, errors: 0, pass_rate: 1 });
}

/** The job directory a completed run reports (`job: <dir>` under the table). */
function reportedJobDir(stdout: string): string {
  const match = /^job: (\S+)$/m.exec(stdout);
  if (!match) throw new Error(`no "job:" line in:\n${stdout}`);
  return match[1]!;
}

describe('kill -9 at random points, then resume', () => {
  it(`loses and duplicates no trial over ${KILLS} kills in a row`, async () => {
    const seed = Number(process.env.SKILL_EVAL_KILL_SEED ?? randomInt(2 ** 31));
    console.log(`kill -9 test seed ${seed} (SKILL_EVAL_KILL_SEED=${seed} replays it)`);
    const random = mulberry32(seed);
    const work = await tempDir('kill-resume');
    const tmp = join(work, 'tmp');
    const results = join(work, 'results');
    const jobsDir = join(results, 'jobs');
    // The same command every time, no job name: each run resumes the unfinished job with this plan
    // (2 tasks × 2 arms × 3 trials). Once a run completes it, the next run starts a fresh job for the next kills.
    const args = [
      'eval',
      join(JOB_FIXTURES, 'quick-a'),
      join(JOB_FIXTURES, 'quick-b'),
      '--agent=oracle',
      '--provider=local',
      '--compare',
      '--trials=3',
      '--concurrency=2',
      `--results-dir=${results}`,
    ];
    const env = { ...process.env, TMPDIR: tmp, CI: 'true', FORCE_COLOR: '0' };
    const progress = async (): Promise<string> => {
      if (!existsSync(jobsDir)) return 'no job yet';
      const counts = await Promise.all(
        (await readdir(jobsDir))
          .sort()
          .map(
            async (job) =>
              `${(await readdir(join(jobsDir, job))).filter((d) => existsSync(join(jobsDir, job, d, 'result.json'))).length}`,
          ),
      );
      return `results per job: ${counts.join(', ')}`;
    };

    const log: string[] = [];
    const completed: string[] = [];
    let startupMs = 1_000; // refined from each run's "trials planned" line
    let kills = 0;
    for (let run = 1; kills < KILLS; run++) {
      expect(run, 'runs needed for the kills').toBeLessThanOrEqual(3 * KILLS);
      const at: KillPoint =
        random() < STARTUP_SHARE
          ? { phase: 'startup', ms: Math.round(random() * startupMs) }
          : { phase: 'running', ms: Math.round(random() * RUNNING_WINDOW_MS) };
      const outcome = await runAndMaybeKill(args, env, at);
      if (outcome.plannedAfterMs !== undefined) startupMs = outcome.plannedAfterMs;
      // kill -9 leaves the local provider's process groups and trial roots: clear them as `skill-eval cleanup` does.
      const cleaned = await cleanupLocal({ baseDir: tmp });
      const when = `${at.ms} ms after ${at.phase === 'startup' ? 'start' : 'the plan'}`;
      log.push(
        `run ${run}: ${outcome.killed ? `killed ${when}` : `finished before ${when}`}; ${await progress()}; cleanup killed ${cleaned.processesKilled} processes, removed ${cleaned.directoriesRemoved} roots`,
      );
      if (outcome.killed) {
        kills += 1;
      } else {
        expect(outcome.exitCode, outcome.stderr).toBe(0);
        completed.push(reportedJobDir(outcome.stdout));
      }
    }
    console.log(log.join('\n'));

    // The last killed job, completed by the same command.
    const final = await runCli(args, { env: { TMPDIR: tmp, CI: 'true' } });
    expect(final.exitCode, final.stderr).toBe(0);
    completed.push(reportedJobDir(final.stdout));
    expect(final.stdout).toMatch(/quick-a \| oracle \| with-skills \| 3\s+\| 3\/3/);
    expect(final.stdout).toMatch(/quick-b \| oracle \| no-skills\s+\| 3\s+\| 3\/3/);
    // Every job is complete — also those completed earlier, which later runs left alone, and those whose last
    // run was killed after its last trial (the next run then starts a new job, once the summary is complete too).
    expect(new Set(completed).size).toBe(completed.length);
    // A kill between creating a job directory and renaming job.json into it leaves a directory that is no job
    // (no job.json, no trial): resume ignores it, so it is tolerated here — anything more is not.
    const jobs: string[] = [];
    for (const name of await readdir(jobsDir)) {
      const entries = await readdir(join(jobsDir, name));
      if (!entries.includes('job.json') && entries.every((e) => e.startsWith('.job.json.'))) continue;
      jobs.push(join(jobsDir, name));
    }
    for (const jobDir of jobs) await expectCompleteJob(jobDir, basename(jobDir));
    expect(jobs.map((dir) => basename(dir))).toEqual(expect.arrayContaining(completed.map((dir) => basename(dir))));
    console.log(`${jobs.length} jobs completed, ${completed.length} of them by a run that was not killed`);
    // Nothing left behind by the last (uninterrupted) run or by the killed ones after cleanup.
    expect(pgrep(`skill-eval-quick:${tmp}`)).toEqual([]);
    expect(await trialRoots(tmp)).toEqual([]);
  }, 180_000);
});
