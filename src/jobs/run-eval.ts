import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { TrialResult } from '../results/schema.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { copyReusedTrials } from './baseline-reuse.js';
import { plannedDifferently } from './choose-job.js';
import { ClaimBook, claimTiming, createExclusive, DEFAULT_STALE_CLAIM_SEC, describeOwner } from './claims.js';
import type { EvalNotice } from './eval-tasks.js';
import { finalizeJob } from './finalize.js';
import { diffJobConfig, type JobConfig, readJobConfig } from './job-config.js';
import { plannedTrialNames } from './plan.js';
import type { EvalPlan } from './plan-eval.js';
import { type JobEvent, type JobOptions, type JobOutcome, type LeftTrial, runJob } from './run-job.js';
import { writeSkillsLock } from './skills-lock.js';
import { type JobSummary, summarizeResults } from './summary.js';

export interface RunEvalContext {
  /** Aborting stops scheduling trials; running ones are stopped and cleaned up. */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: JobEvent) => void) | undefined;
  /** Joining a job other workers are on, or refusing to (`join: false`). */
  onNotice?: ((notice: EvalNotice) => void) | undefined;
  /** What this process is among the job's workers: `eval` (the default) or `worker`. */
  role?: string | undefined;
  /** false: refuse to work on a job another live process is on (`eval --no-join`). */
  join?: boolean | undefined;
  /** Leave when nothing is left to claim instead of waiting for the trials other workers hold. */
  noWait?: boolean | undefined;
  /** Claims not refreshed for this long are taken over (DEFAULT_STALE_CLAIM_SEC). */
  staleClaimSec?: number | undefined;
}

export interface EvalJobOutcome {
  results: TrialResult[];
  /** The job was stopped before every trial ran (resume it with the same plan). */
  cancelled: boolean;
  summary: JobSummary;
  reportPaths: string[];
  /** `noWait`: trials other workers still held when this one left; the last of them writes summary and reports. */
  leftToOthers: LeftTrial[];
  /** `--max-cost` was spent before every trial started (JobOutcome.budgetStopped). */
  budgetStopped?: JobOutcome['budgetStopped'];
}

/**
 * job.json, created exclusively: when two runs of a new job start together, the second takes the first's
 * (its start time names the reports) after checking the plans match; an existing one is updated as on resume
 * (`rewrite`; a worker leaves it as it is).
 */
async function establishJob(jobDir: string, config: JobConfig, rewrite: boolean): Promise<JobConfig> {
  await mkdir(jobDir, { recursive: true });
  const path = join(jobDir, 'job.json');
  if (createExclusive(path, `${JSON.stringify(config, null, 2)}\n`)) return config;
  const existing = await readJobConfig(jobDir).catch(() => undefined);
  if (existing) {
    const changes = diffJobConfig(existing, config);
    if (changes.length > 0) throw plannedDifferently(config.job_id, changes);
  }
  if (existing && !rewrite) return existing;
  const adopted = existing ? { ...config, created_at: existing.created_at } : config;
  await writeJsonAtomic(path, adopted);
  return adopted;
}

/** Writes what a job is before any trial runs: job.json, skills.lock.json, copied baseline trials. */
export async function writeJobFiles(plan: EvalPlan, claims?: ClaimBook, rewrite = true): Promise<JobConfig> {
  const { jobDir } = plan;
  const config = await establishJob(jobDir, plan.config, rewrite);
  if (plan.skillsLock) await writeSkillsLock(jobDir, plan.skillsLock);
  // Before runJob: its resume check then counts the copied trials as done, and runs only the others.
  if (plan.baselineReuse) await copyReusedTrials(plan.baselineReuse, jobDir, config.job_id, plan.redactor, claims);
  return config;
}

/** Says whether this process joins others on the job; with `join: false` and others on it, refuses. */
function joinOthers(claims: ClaimBook, jobId: string, context: RunEvalContext): void {
  const others = claims.otherWorkers();
  if (others.length === 0) return;
  const who = others.map((w) => `${describeOwner(w.owner)} (${w.command})`).join(', ');
  if (context.join === false)
    throw new UsageError(`job ${jobId} is being run by ${who}; --no-join: not joining it`, {
      hint: 'drop --no-join to work on it alongside (each trial still runs once), or use --new-job for a new job',
    });
  context.onNotice?.({
    level: 'note',
    message: `joining job ${jobId} as a worker alongside ${who}: each trial runs once, in whichever process claims it`,
  });
}

/**
 * `eval`'s running (and `worker`'s): writes the job's files, joins the job's workers, runs every trial of the
 * plan not yet done under its claim, then writes the summary and reports from the trial directories.
 */
export async function runEvalJob(plan: EvalPlan, context: RunEvalContext = {}): Promise<EvalJobOutcome> {
  const { options, jobDir } = plan;
  const claims = new ClaimBook(jobDir, claimTiming((context.staleClaimSec ?? DEFAULT_STALE_CLAIM_SEC) * 1000));
  await mkdir(jobDir, { recursive: true });
  claims.start(context.role ?? 'eval', options.concurrency);
  try {
    const config = await writeJobFiles(plan, claims, context.role !== 'worker');
    joinOthers(claims, config.job_id, context);
    // Every running trial listens for cancel (lifecycle, exec, agent): more than Node's default warning threshold of 10.
    if (context.signal) setMaxListeners(Math.max(50, options.concurrency * 10), context.signal);
    const outcome = await runJob(jobOptions(plan, config, claims, context));
    if (outcome.leftToOthers.length > 0) {
      const counts = summarizeResults(config.job_id, outcome.results.length, outcome.results, options.passThreshold);
      return { ...outcome, summary: counts, reportPaths: [] };
    }
    const finalized = await finalizeJob({
      jobDir,
      jobId: config.job_id,
      resultsDir: plan.resultsDir,
      createdAt: config.created_at,
      commandLine: config.command_line,
      passThreshold: options.passThreshold,
      planned: outcome.planned,
      trials: plannedTrialNames(config),
      sequential: outcome.sequential,
      claims,
    });
    return {
      results: finalized.results,
      cancelled: outcome.cancelled,
      // What is printed counts the trials that have results (summary.json keeps the job's plan).
      summary: { ...finalized.summary, planned: finalized.results.length },
      reportPaths: finalized.reportPaths,
      leftToOthers: [],
      budgetStopped: outcome.budgetStopped,
    };
  } finally {
    claims.stop();
  }
}

function jobOptions(plan: EvalPlan, config: JobConfig, claims: ClaimBook, context: RunEvalContext): JobOptions {
  const { options } = plan;
  return {
    jobId: config.job_id,
    jobDir: plan.jobDir,
    tasks: plan.tasks,
    agents: plan.agents,
    arms: plan.arms,
    trials: options.trials,
    sequential: options.sequential,
    provider: plan.provider,
    concurrency: options.concurrency,
    env: plan.env,
    redactor: plan.redactor,
    judge: plan.judge,
    signal: context.signal,
    forceBuild: options.forceBuild,
    agentTimeoutSec: options.agentTimeout,
    verifierTimeoutSec: options.verifierTimeout,
    passThreshold: options.passThreshold,
    audit: options.audit,
    workspaceArchiveMaxBytes:
      options.workspaceArchiveMaxMb === undefined ? undefined : Math.round(options.workspaceArchiveMaxMb * 1024 * 1024),
    maxRetries: options.maxRetries,
    baselines: plan.baselines,
    armResources: plan.armResources,
    gateway: plan.gateway,
    onEvent: context.onEvent,
    claims,
    noWait: context.noWait,
  };
}
