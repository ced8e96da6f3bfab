import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Agent, Arm } from '../agents/types.js';
import type { EnvironmentProvider } from '../environments/types.js';
import { InterruptedError } from '../errors.js';
import type { JobBudget } from '../gateway/budget.js';
import type { JudgeSettings } from '../graders/types.js';
import { type TrialResult, trialResultSchema } from '../results/schema.js';
import type { Task } from '../task/types.js';
import type { BaselineFingerprint } from '../trial/fingerprint.js';
import { runTrial, type TrialSpec, trialName } from '../trial/run-trial.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { removeTree } from '../util/remove-tree.js';
import type { Redactor } from '../util/secrets.js';
import { type JobGateway, jobBudget, trialGateway } from './gateway-plan.js';
import { type PlannedTrial, planTrials } from './plan.js';
import { prepareOnce } from './prepare-once.js';
import {
  SEQUENTIAL_ROUND,
  type SequentialOptions,
  type SequentialStop,
  type SequentialSummary,
  SequentialTracker,
  sequentialSummary,
} from './sequential.js';
import { summarizeResults } from './summary.js';

export interface JobAgent {
  agent: Agent;
  model?: string | undefined;
}

export type JobEvent =
  /** `reused`: of those already done, the trials copied from an earlier job (`eval --baseline-from`). */
  /** `upTo`: `--trials auto`, total is the most the job may run. */
  | { type: 'planned'; total: number; alreadyDone: number; reused?: number | undefined; upTo?: boolean | undefined }
  | { type: 'log'; task: string; line: string }
  | { type: 'trial-start'; name: string; task: string; arm: Arm; agent: string }
  | { type: 'trial-phase'; name: string; phase: string }
  | { type: 'trial-retry'; name: string; attempt: number; message: string; delayMs: number }
  | { type: 'trial-end'; name: string; result: TrialResult; resumed: boolean };

export interface JobOptions {
  jobId: string;
  jobDir: string;
  tasks: Task[];
  agents: JobAgent[];
  arms: Arm[];
  /** Trials per task and arm; with `sequential`, the most. */
  trials: number;
  /** `--trials auto`: each task × agent runs in rounds until its stopping rule says so (src/analytics/sequential.ts). */
  sequential?: SequentialOptions | undefined;
  provider: EnvironmentProvider;
  concurrency: number;
  env: Record<string, string>;
  redactor: Redactor;
  /** Judges of llm_rubric graders (TrialRuntime.judge). */
  judge?: JudgeSettings | undefined;
  signal?: AbortSignal | undefined;
  forceBuild?: boolean | undefined;
  agentTimeoutSec?: number | undefined;
  verifierTimeoutSec?: number | undefined;
  passThreshold?: number | undefined;
  /** Isolation and tamper audits in every trial (TrialRuntime.audit). */
  audit?: boolean | undefined;
  /** Cap on each trial's workspace archive (TrialRuntime.workspaceArchiveMaxBytes). */
  workspaceArchiveMaxBytes?: number | undefined;
  /** Extra attempts for a trial that ended in a retryable failure (infra, agent dead before its first model call). */
  maxRetries?: number | undefined;
  /** Backoff before retry n is retryBaseMs · 2^(n−1). */
  retryBaseMs?: number | undefined;
  /** Each task × agent's no-skills fingerprint, by baselineKey(): recorded in the no-skills results. */
  baselines?: ReadonlyMap<string, BaselineFingerprint> | undefined;
  /** The trials' model gateways (TrialRuntime.gateway); undefined: each trial's default, false: none. */
  gateway?: JobGateway | false | undefined;
  onEvent?: ((event: JobEvent) => void) | undefined;
}

export interface JobOutcome {
  results: TrialResult[];
  cancelled: boolean;
  /** Trials whose results were already in the job directory. */
  resumed: number;
  /** `--trials auto`: where each task × agent stopped. */
  sequential?: SequentialSummary | undefined;
  /** `--max-cost`: the job spent its budget, and the trials not started then were left for a resume. */
  budgetStopped?: { spentUsd: number; maxCostUsd: number; notStarted: number } | undefined;
}

const SUMMARY_REFRESH_MS = 1000;

/** The key of a task × agent × model in JobOptions.baselines. */
export function baselineKey(task: string, agent: string, model: string | undefined): string {
  return JSON.stringify([task, agent, model ?? '']);
}

/** A finished trial's result from an earlier run of this job, or undefined when it has to run (again). */
async function finishedResult(trialDir: string): Promise<TrialResult | undefined> {
  const path = join(trialDir, 'result.json');
  if (!existsSync(path)) return undefined;
  try {
    const parsed = trialResultSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    // Infrastructure failures say nothing about the agent: a resumed job gives them another chance.
    if (parsed.success && parsed.data.status !== 'infra_error') return parsed.data;
  } catch {
    // A torn or foreign file: run the trial again.
  }
  return undefined;
}

interface PendingTrial {
  spec: TrialSpec;
  name: string;
  dir: string;
}

function pendingTrial(options: JobOptions, item: PlannedTrial): PendingTrial {
  const task = options.tasks[item.taskIndex]!;
  const jobAgent = options.agents.find((a) => a.agent.name === item.agent.name && a.model === item.agent.model)!;
  const spec: TrialSpec = {
    jobId: options.jobId,
    task,
    agent: jobAgent.agent,
    model: jobAgent.model,
    arm: item.arm,
    trialIndex: item.trialIndex,
    baseline:
      item.arm === 'no-skills'
        ? options.baselines?.get(baselineKey(task.name, jobAgent.agent.name, jobAgent.model))
        : undefined,
  };
  const name = trialName(spec);
  return { spec, name, dir: join(options.jobDir, name) };
}

type Prepare = ReturnType<typeof prepareOnce>;

async function runWithRetries(
  options: JobOptions,
  prepare: Prepare,
  trial: PendingTrial,
  budget: JobBudget | undefined,
): Promise<TrialResult> {
  const { spec, name, dir } = trial;
  const retries: TrialResult['retries'] = [];
  const maxRetries = options.maxRetries ?? 0;
  for (let attempt = 1; ; attempt++) {
    // What an interrupted earlier attempt left (usually nothing).
    await removeTree(dir);
    const result = await runTrial(spec, {
      provider: options.provider,
      prepare: () => prepare(spec.task, spec.agent),
      trialDir: dir,
      env: options.env,
      redactor: options.redactor,
      judge: options.judge,
      signal: options.signal,
      agentTimeoutSec: options.agentTimeoutSec,
      verifierTimeoutSec: options.verifierTimeoutSec,
      passThreshold: options.passThreshold,
      audit: options.audit,
      workspaceArchiveMaxBytes: options.workspaceArchiveMaxBytes,
      retries: [...retries],
      gateway: trialGateway(options.gateway, budget, name),
      onPhase: (phase) => options.onEvent?.({ type: 'trial-phase', name, phase }),
    });
    // Agent timeouts and failed verifications say something about the agent: never retried.
    if (!result.error?.retryable || attempt > maxRetries || options.signal?.aborted) return result;
    const delayMs = (options.retryBaseMs ?? 1000) * 2 ** (attempt - 1);
    retries.push({ attempt, status: result.status, message: result.error.message, at: result.timings.finished_at });
    options.onEvent?.({ type: 'trial-retry', name, attempt, message: result.error.message, delayMs });
    await delay(delayMs, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted) return result;
  }
}

/** The results of earlier runs of this job, by trial name. */
async function finishedResults(trials: readonly PendingTrial[]): Promise<Map<string, TrialResult>> {
  const done = new Map<string, TrialResult>();
  for (const trial of trials) {
    const result = await finishedResult(trial.dir);
    if (result) done.set(trial.name, result);
  }
  return done;
}

/**
 * `--trials auto`: each task × agent runs rounds of SEQUENTIAL_ROUND trials per arm, arms interleaved, and its
 * stopping rule looks after each round; the next round is planned from the results so far (those of an earlier
 * run of the job first, so a resumed job replays its decisions and goes on from there).
 */
async function runSequentially(
  options: JobOptions,
  rule: SequentialOptions,
  plan: readonly PlannedTrial[],
  run: (planIndex: number) => Promise<TrialResult | undefined>,
  onStop: (stop: SequentialStop) => void,
): Promise<void> {
  // Each task × agent's trials (indices into the plan), in the plan's interleaved order.
  const groups = new Map<string, number[]>();
  plan.forEach((item, index) => {
    const key = JSON.stringify([item.taskIndex, item.agent.name, item.agent.model ?? '']);
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  await Promise.all(
    [...groups.values()].map(async (indices) => {
      const group = plan[indices[0]!]!;
      const tracker = new SequentialTracker(rule, options.arms, options.passThreshold ?? 1);
      for (let done = 0; done < rule.maxTrials; ) {
        const upTo = Math.min(done + SEQUENTIAL_ROUND, rule.maxTrials);
        const round = indices.filter((i) => plan[i]!.trialIndex > done && plan[i]!.trialIndex <= upTo);
        const results = await Promise.all(round.map(run));
        if (options.signal?.aborted || results.some((r) => r === undefined)) return;
        for (const result of results) tracker.record(result!);
        done = upTo;
        const stop = tracker.look(done);
        if (stop) {
          const task = options.tasks[group.taskIndex]!.name;
          onStop({ task, agent: group.agent.name, model: group.agent.model, ...stop });
          return;
        }
      }
    }),
  );
}

/** Runs every planned trial of a job with bounded concurrency; resumable; one broken task never stops the others. */
export async function runJob(options: JobOptions): Promise<JobOutcome> {
  const plan = planTrials(
    options.tasks.length,
    options.agents.map((a) => ({ name: a.agent.name, model: a.model })),
    options.arms,
    options.trials,
  );
  // Agent CLIs are installed once, before any trial, so no trial's timeout pays for a download.
  const log = (line: string): void => options.onEvent?.({ type: 'log', task: 'setup', line });
  for (const { agent } of options.agents) await agent.install?.({ signal: options.signal, log });
  const prepare = prepareOnce({
    provider: options.provider,
    tasks: options.tasks,
    jobId: options.jobId,
    forceBuild: options.forceBuild ?? false,
    signal: options.signal,
    log: (task, line) => options.onEvent?.({ type: 'log', task, line }),
    gateway: options.gateway !== false,
  });

  const results: TrialResult[] = [];
  let resumed = 0;
  const trials = plan.map((item) => pendingTrial(options, item));
  const done = await finishedResults(trials);
  const budget = jobBudget(options.gateway, done.values());
  let notStarted = 0;
  const reused = [...done.values()].filter((r) => r.reused_from !== undefined).length;
  const rule = options.sequential;
  const stops: SequentialStop[] = [];
  const groupCount = plan.length / Math.max(1, options.arms.length * options.trials);
  // With --trials auto: the most still possible, shrinking as tasks stop.
  let planned = plan.length;
  const sequential = (): SequentialSummary | undefined =>
    rule ? sequentialSummary(rule, stops, groupCount) : undefined;

  // summary.json is derived from the trials' results (a torn or stale copy is rebuilt by the next run): while the
  // job runs it is refreshed at most once a second, so a job of thousands of trials doesn't rewrite an O(trials)
  // summary after every trial; at the end it is written once more, and an error there surfaces.
  const summaryPath = join(options.jobDir, 'summary.json');
  let summaryWrittenAt = Number.NEGATIVE_INFINITY;
  const writeSummary = (): void => {
    summaryWrittenAt = performance.now();
    const summary = summarizeResults(options.jobId, planned, results, options.passThreshold);
    writeJsonAtomicSync(summaryPath, rule ? { ...summary, sequential: sequential() } : summary);
  };
  const refreshSummary = (): void => {
    if (performance.now() - summaryWrittenAt < SUMMARY_REFRESH_MS) return;
    try {
      writeSummary();
    } catch {
      // the final write reports it
    }
  };
  const limit = pLimit(Math.max(1, options.concurrency));
  let cancelled = false;
  // No limit.clearQueue(): p-limit never settles the promises it discards, so Promise.all below would hang
  // forever (and Node would exit 0 without a summary). Queued trials see the aborted signal and return at once.
  const onAbort = (): void => {
    cancelled = true;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const execute = (trial: PendingTrial): Promise<TrialResult | undefined> =>
    limit(async () => {
      const { spec, name } = trial;
      if (options.signal?.aborted) return undefined;
      // `--max-cost` spent: what has not started waits for a resume with a higher budget.
      if (budget?.exceeded) {
        notStarted += 1;
        return undefined;
      }
      options.onEvent?.({ type: 'trial-start', name, task: spec.task.name, arm: spec.arm, agent: spec.agent.name });
      try {
        const result = await runWithRetries(options, prepare, trial, budget);
        results.push(result);
        refreshSummary();
        options.onEvent?.({ type: 'trial-end', name, result, resumed: false });
        return result;
      } catch (error) {
        if (error instanceof InterruptedError) {
          cancelled = true;
          return undefined;
        }
        throw error;
      }
    });
  const fromDisk = (trial: PendingTrial): TrialResult | undefined => {
    const result = done.get(trial.name);
    if (!result) return undefined;
    results.push(result);
    resumed += 1;
    options.onEvent?.({ type: 'trial-end', name: trial.name, result, resumed: true });
    return result;
  };

  try {
    if (rule) {
      options.onEvent?.({ type: 'planned', total: plan.length, alreadyDone: done.size, reused, upTo: true });
      const run = async (index: number): Promise<TrialResult | undefined> =>
        fromDisk(trials[index]!) ?? (await execute(trials[index]!));
      await runSequentially(options, rule, plan, run, (stop) => {
        stops.push(stop);
        planned -= (rule.maxTrials - stop.trials) * options.arms.length;
      });
    } else {
      const pending = trials.filter((trial) => fromDisk(trial) === undefined);
      options.onEvent?.({ type: 'planned', total: plan.length, alreadyDone: resumed, reused });
      await Promise.all(pending.map(execute));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    writeSummary();
  }
  return {
    results,
    cancelled: cancelled || options.signal?.aborted === true,
    resumed,
    sequential: sequential(),
    budgetStopped:
      budget && notStarted > 0 ? { spentUsd: budget.spentUsd, maxCostUsd: budget.maxCostUsd, notStarted } : undefined,
  };
}
