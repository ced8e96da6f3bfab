import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { createProvider } from '../environments/registry.js';
import type { EnvironmentProvider, PreparedEnvironment } from '../environments/types.js';
import { EXIT_CODES, UsageError } from '../errors.js';
import { loadTaskOrThrow } from '../task/load.js';
import type { Task } from '../task/types.js';
import { verifierDigest } from '../trial/verifier-digest.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { collectForwardedEnv, Redactor } from '../util/secrets.js';
import { type RegradedTrial, type RegradeReport, regradedTrial, summarizeChange } from './report.js';
import {
  openJob,
  REGRADES_DIR,
  type RegradeJob,
  type SkippedTrial,
  type StoredTrial,
  storedTrials,
  whyNotRegradable,
} from './source.js';
import { regradeTrial } from './trial.js';

export interface RegradeOptions {
  /** A job name under `<resultsDir>/jobs`, or the path of a job directory. */
  job: string;
  /** Only the trials of these tasks; all when empty. */
  tasks?: string[] | undefined;
  resultsDir: string;
  concurrency: number;
  /** The environment provider; job.json's by default (a provider object: tests and the API). */
  provider?: EnvironmentProvider | undefined;
  signal?: AbortSignal | undefined;
  onTrial?: ((trial: RegradedTrial) => void) | undefined;
}

export interface RegradeOutcome {
  report: RegradeReport;
  /** 0, or 3 when a regraded trial ended in a verifier or infrastructure error (docs/exit-codes.md). */
  exitCode: number;
}

/** `--task` names must be tasks of the job. */
function selectTasks(job: RegradeJob, names: readonly string[]): Set<string> {
  const known = job.config.tasks.map((task) => task.name);
  for (const name of names)
    if (!known.includes(name))
      throw new UsageError(`--task ${name}: job ${job.config.job_id} has no such task`, {
        hint: `its tasks: ${known.join(', ')}`,
      });
  return new Set(names.length > 0 ? names : known);
}

/** The task as it is now, from the directory job.json names. */
async function loadJobTask(job: RegradeJob, name: string): Promise<Task> {
  const entry = job.config.tasks.find((task) => task.name === name);
  if (!entry) throw new UsageError(`task ${name} of a stored trial is not in ${join(job.dir, 'job.json')}`);
  if (!existsSync(entry.dir))
    throw new UsageError(
      `task ${name}: its directory ${entry.dir} (from ${join(job.dir, 'job.json')}) no longer exists`,
      {
        hint: 'restore the task directory where the job found it',
      },
    );
  return loadTaskOrThrow(entry.dir);
}

/** `<job>/regrades/<stamp>`, a new directory each time. */
function newRegradeDir(jobDir: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  let dir = join(jobDir, REGRADES_DIR, stamp);
  for (let n = 2; existsSync(dir); n++) dir = join(jobDir, REGRADES_DIR, `${stamp}-${n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function partition(trials: StoredTrial[], wanted: Set<string>, skipped: SkippedTrial[]): Promise<StoredTrial[]> {
  const regradable: StoredTrial[] = [];
  for (const trial of trials) {
    if (!wanted.has(trial.result.task)) continue;
    const reason = await whyNotRegradable(trial);
    if (reason) skipped.push({ name: trial.name, task: trial.result.task, reason });
    else regradable.push(trial);
  }
  return regradable;
}

/**
 * `skill-eval regrade JOB`: every stored trial of the job whose workdir was archived is verified again with its
 * task's current tests, in a fresh environment of the job's provider; no agent runs. New results go to
 * `<job>/regrades/<stamp>/<trial>/result.json`, with `regrade.json` there saying what changed.
 */
export async function regradeJob(options: RegradeOptions, cwd: string): Promise<RegradeOutcome> {
  const job = await openJob(options.job, options.resultsDir, cwd);
  const wanted = selectTasks(job, options.tasks ?? []);
  const stored = await storedTrials(job.dir);
  const skipped = stored.skipped;
  const regradable = await partition(stored.trials, wanted, skipped);
  const tasks = new Map<string, Task>();
  for (const name of new Set(regradable.map((trial) => trial.result.task)))
    tasks.set(name, await loadJobTask(job, name));

  const provider = options.provider ?? (await createProvider(job.config.provider));
  if (regradable.length > 0) await provider.preflight();
  const regradeDir = newRegradeDir(job.dir, new Date());
  const redactor = new Redactor(collectForwardedEnv(process.env, job.config.forwarded_env ?? []).secrets);
  const prepared = new Map<string, Promise<PreparedEnvironment>>();
  const prepare = (task: Task) => () => {
    const existing = prepared.get(task.name);
    if (existing) return existing;
    const log = () => undefined;
    const promise = provider.prepare(task, {
      jobId: job.config.job_id,
      forceBuild: false,
      signal: options.signal,
      log,
    });
    prepared.set(task.name, promise);
    return promise;
  };
  const limit = pLimit(Math.max(1, options.concurrency));
  const trials = await Promise.all(
    regradable.map((trial) =>
      limit(async () => {
        const task = tasks.get(trial.result.task)!;
        const after = await regradeTrial(trial, {
          task,
          provider,
          prepare: prepare(task),
          regradeDir,
          redactor,
          passThreshold: job.config.pass_threshold,
          signal: options.signal,
        });
        const outcome = regradedTrial(trial.name, trial.result, after);
        options.onTrial?.(outcome);
        return outcome;
      }),
    ),
  );
  const report: RegradeReport = {
    schema: 'skill-eval/regrade@1',
    job_id: job.config.job_id,
    job_dir: job.dir,
    regrade_dir: regradeDir,
    provider: provider.name,
    pass_threshold: job.config.pass_threshold,
    tasks: await Promise.all(
      job.config.tasks
        .filter((entry) => tasks.has(entry.name))
        .map(async (entry) => ({
          name: entry.name,
          checksum_before: entry.checksum,
          checksum_after: tasks.get(entry.name)!.checksum,
          verifier_digest_after: await verifierDigest(tasks.get(entry.name)!),
        })),
    ),
    ...summarizeChange(trials),
    trials,
    skipped,
  };
  writeJsonAtomicSync(join(regradeDir, 'regrade.json'), redactor.redactValue(report));
  const failed = report.verifier_errors + report.infra_errors > 0;
  return { report, exitCode: failed ? EXIT_CODES.infra : EXIT_CODES.ok };
}
