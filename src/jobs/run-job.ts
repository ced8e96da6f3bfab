import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Agent, Arm } from '../agents/types.js';
import { type ArmResources, armSetup } from '../arms/setup.js';
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
import { type ClaimBook, type ClaimOwner, type ClaimRecord, currentClaim, describeOwner } from './claims.js';
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
  /** What skill-variant and with-distractors arms draw on (src/arms/setup.ts). */
  armResources?: ArmResources | undefined;
  /** Each task × agent's no-skills fingerprint, by baselineKey(): recorded in the no-skills results. */
  baselines?: ReadonlyMap<string, BaselineFingerprint> | undefined;
  /** The trials' model gateways (TrialRuntime.gateway); undefined: each trial's default, false: none. */
  gateway?: JobGateway | false | undefined;
  onEvent?: ((event: JobEvent) => void) | undefined;
  /** This process's claims on the job (claims.ts): a trial runs only under its claim. Started and stopped by the caller. */
  claims: ClaimBook;
  /** Leave when nothing is left to claim instead of waiting for the trials other workers hold (`worker --no-wait`). */
  noWait?: boolean | undefined;
}

/** A trial another worker still held when this one left (`noWait`). */
export interface LeftTrial {
  name: string;
  owner?: ClaimOwner | undefined;
}

export interface JobOutcome {
  results: TrialResult[];
  cancelled: boolean;
  /** Trials whose results were already in the job directory. */
  resumed: number;
  /** `--trials auto`: where each task × agent stopped. */
  sequential?: SequentialSummary | undefined;
  /** The job's trials; with `--trials auto`, the most it may run given where its tasks stopped. */
  planned: number;
  /** `noWait`: the trials other workers still held; empty when the job is complete (or was cancelled). */
  leftToOthers: LeftTrial[];
  /** `--max-cost`: the job spent its budget, and the trials not started then were left for a resume. */
  budgetStopped?: { spentUsd: number; maxCostUsd: number; notStarted: number } | undefined;
}

const SUMMARY_REFRESH_MS = 1000;
/** How often a trial another worker holds is looked at again: from the first, doubling, to the last. */
const WAIT_FIRST_MS = 250;
const WAIT_LAST_MS = 5_000;

/** The key of a task × agent × model in JobOptions.baselines. */
export function baselineKey(task: string, agent: string, model: string | undefined): string {
  return JSON.stringify([task, agent, model ?? '']);
}

/**
 * A finished trial's result from an earlier run of this job, or undefined when it has to run (again).
 * `anyStatus`: an infrastructure error too (another worker's attempt in this run of the job).
 */
async function finishedResult(trialDir: string, anyStatus = false): Promise<TrialResult | undefined> {
  const path = join(trialDir, 'result.json');
  if (!existsSync(path)) return undefined;
  try {
    const parsed = trialResultSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    // Infrastructure failures say nothing about the agent: a resumed job gives them another chance.
    if (parsed.success && (anyStatus || parsed.data.status !== 'infra_error')) return parsed.data;
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
    setup: armSetup(item.arm, task, item.trialIndex, options.armResources),
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
  signal: AbortSignal | undefined,
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
      signal,
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
    if (!result.error?.retryable || attempt > maxRetries || signal?.aborted) return result;
    const delayMs = (options.retryBaseMs ?? 1000) * 2 ** (attempt - 1);
    retries.push({ attempt, status: result.status, message: result.error.message, at: result.timings.finished_at });
    options.onEvent?.({ type: 'trial-retry', name, attempt, message: result.error.message, delayMs });
    await delay(delayMs, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) return result;
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

type Attempt =
  | { result: TrialResult; mine: boolean }
  | { heldBy: ClaimRecord | undefined }
  | { stopped: true }
  | { lost: true };

interface ClaimedRunner {
  /** The trial's result: run here under its claim, or by another worker (waited for); undefined when stopped. */
  obtain: (trial: PendingTrial) => Promise<TrialResult | undefined>;
  cancelled: () => boolean;
  /** `noWait`: the trials left to other workers that still have no result. */
  leftToOthers: () => Promise<LeftTrial[]>;
  /** `--max-cost`: the trials not started because the job had spent its budget. */
  notStarted: () => number;
}

/**
 * A trial's result if nothing is left to run for it: a kept result, or whatever another worker's attempt ended in
 * after this process started (its claim `done`, a generation later than `snapshot` had; `previous`: the claim
 * this process's own claim just followed).
 */
async function settledResult(
  jobDir: string,
  snapshot: ReadonlyMap<string, number>,
  trial: PendingTrial,
  previous?: ClaimRecord,
): Promise<TrialResult | undefined> {
  const kept = await finishedResult(trial.dir);
  if (kept) return kept;
  const latest = previous ?? currentClaim(jobDir, trial.name).record;
  if (latest?.state === 'done' && latest.generation > (snapshot.get(trial.name) ?? 0))
    return finishedResult(trial.dir, true);
  return undefined;
}

/**
 * Runs trials under claims with bounded concurrency. A trial another worker holds gives its slot back at once and
 * is looked at again later (backing off), so this process runs what nobody runs and waits only when nothing is
 * left; it takes over claims that go stale. `snapshot`: each trial's claim generation when this process started —
 * an infrastructure error another worker got after it is that run's attempt, not one to repeat.
 */
function claimedRunner(
  options: JobOptions,
  prepare: Prepare,
  snapshot: ReadonlyMap<string, number>,
  budget: JobBudget | undefined,
  onResult: (result: TrialResult, mine: boolean, name: string) => void,
): ClaimedRunner {
  const { claims } = options;
  const limit = pLimit(Math.max(1, options.concurrency));
  const waitLastMs = Math.max(WAIT_FIRST_MS, Math.min(WAIT_LAST_MS, claims.timing.staleMs / 2));
  const leftToOthers: LeftTrial[] = [];
  const trials = new Map<string, PendingTrial>();
  const waitingOn = new Map<string, ClaimRecord | undefined>();
  let running = 0;
  let cancelled = false;
  let toldWaiting = false;
  let notStarted = 0;
  const log = (line: string): void => options.onEvent?.({ type: 'log', task: 'claims', line });

  const settled = (trial: PendingTrial, previous?: ClaimRecord) =>
    settledResult(options.jobDir, snapshot, trial, previous);

  const runClaimed = async (trial: PendingTrial, lost: AbortSignal): Promise<Attempt> => {
    const { spec, name } = trial;
    const signals = [lost, ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    // Every running trial listens for cancel (lifecycle, exec, agent): more than Node's default of 10.
    setMaxListeners(50, signal);
    options.onEvent?.({ type: 'trial-start', name, task: spec.task.name, arm: spec.arm, agent: spec.agent.name });
    running += 1;
    toldWaiting = false;
    try {
      const result = await runWithRetries(options, prepare, trial, signal, budget);
      return lost.aborted ? { lost: true } : { result, mine: true };
    } catch (error) {
      if (!(error instanceof InterruptedError)) throw error;
      if (lost.aborted) return { lost: true };
      cancelled = true;
      return { stopped: true };
    } finally {
      running -= 1;
    }
  };

  const attempt = (trial: PendingTrial): Promise<Attempt> =>
    limit(async (): Promise<Attempt> => {
      if (options.signal?.aborted) return { stopped: true };
      const before = await settled(trial);
      if (before) return { result: before, mine: false };
      // `--max-cost` spent: what has not started waits for a resume with a higher budget.
      if (budget?.exceeded) {
        notStarted += 1;
        return { stopped: true };
      }
      const claim = claims.tryClaim(trial.name);
      if (!claim.held) return { heldBy: claim.heldBy };
      const { held } = claim;
      let state: 'done' | 'released' = 'released';
      try {
        // Finished by its owner between the look above and the claim (it marked its claim done just before).
        const late = await settled(trial, claim.previous);
        if (late) {
          state = 'done';
          return { result: late, mine: false };
        }
        if (claim.tookOver)
          log(`took over ${trial.name} from ${describeOwner(claim.tookOver.record.owner)}: ${claim.tookOver.reason}`);
        const outcome = await runClaimed(trial, held.lost.signal);
        if ('result' in outcome) state = 'done';
        if ('lost' in outcome) log(`${trial.name}: another worker took the claim over; its result is theirs`);
        return outcome;
      } finally {
        claims.release(held, state);
      }
    });

  const noteWaiting = (): void => {
    if (toldWaiting || running > 0 || limit.pendingCount > 0 || waitingOn.size === 0) return;
    toldWaiting = true;
    const owners = new Set([...waitingOn.values()].map((r) => (r ? describeOwner(r.owner) : 'a worker starting up')));
    log(
      `nothing left to claim: waiting for ${waitingOn.size} trial(s) held by other workers (${[...owners].join(', ')}); a claim whose owner dies is taken over after ${Math.round(claims.timing.staleMs / 1000)} s`,
    );
  };

  const obtain = async (trial: PendingTrial): Promise<TrialResult | undefined> => {
    trials.set(trial.name, trial);
    for (let waitMs = WAIT_FIRST_MS; ; waitMs = Math.min(waitMs * 2, waitLastMs)) {
      const outcome = await attempt(trial);
      if ('result' in outcome) {
        waitingOn.delete(trial.name);
        onResult(outcome.result, outcome.mine, trial.name);
        return outcome.result;
      }
      if ('stopped' in outcome) return undefined;
      const heldBy = 'heldBy' in outcome ? outcome.heldBy : undefined;
      if (options.noWait) {
        leftToOthers.push({ name: trial.name, owner: heldBy?.owner });
        return undefined;
      }
      waitingOn.set(trial.name, heldBy);
      noteWaiting();
      await delay(waitMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  };
  const stillLeft = async (): Promise<LeftTrial[]> => {
    const left: LeftTrial[] = [];
    for (const trial of leftToOthers) {
      const pending = trials.get(trial.name);
      if (pending && !(await settled(pending))) left.push(trial);
    }
    return left;
  };
  return { obtain, cancelled: () => cancelled, leftToOthers: stillLeft, notStarted: () => notStarted };
}

/** Each trial's claim generation now (0: never claimed). */
function claimSnapshot(jobDir: string, trials: readonly PendingTrial[]): Map<string, number> {
  return new Map(trials.map((trial) => [trial.name, currentClaim(jobDir, trial.name).generation]));
}

/**
 * Runs every planned trial of a job with bounded concurrency, each under its claim (claims.ts), so any number of
 * processes can work on one job; resumable; one broken task never stops the others. Returns once every trial has
 * a result (its own or another worker's), unless `noWait` or cancelled. Writes summary.json while it runs; the
 * final one is finalizeJob's.
 */
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
  const snapshot = claimSnapshot(
    options.jobDir,
    trials.filter((t) => !done.has(t.name)),
  );
  const budget = jobBudget(options.gateway, done.values());
  const reused = [...done.values()].filter((r) => r.reused_from !== undefined).length;
  const rule = options.sequential;
  const stops: SequentialStop[] = [];
  const groupCount = plan.length / Math.max(1, options.arms.length * options.trials);
  // With --trials auto: the most still possible, shrinking as tasks stop.
  let planned = plan.length;
  const sequential = (): SequentialSummary | undefined =>
    rule ? sequentialSummary(rule, stops, groupCount) : undefined;

  // summary.json is derived from the trials' results (a torn or stale copy is rebuilt by the next run): while the
  // job runs it is refreshed at most once a second from what this process has seen, so a job of thousands of
  // trials doesn't rewrite an O(trials) summary after every trial; finalizeJob writes the job's from its trial dirs.
  const summaryPath = join(options.jobDir, 'summary.json');
  let summaryWrittenAt = Number.NEGATIVE_INFINITY;
  const refreshSummary = (): void => {
    if (performance.now() - summaryWrittenAt < SUMMARY_REFRESH_MS) return;
    summaryWrittenAt = performance.now();
    try {
      const summary = summarizeResults(options.jobId, planned, results, options.passThreshold);
      writeJsonAtomicSync(summaryPath, rule ? { ...summary, sequential: sequential() } : summary);
    } catch {
      // finalizeJob's write reports it
    }
  };
  const runner = claimedRunner(options, prepare, snapshot, budget, (result, mine, name) => {
    results.push(result);
    if (mine) refreshSummary();
    options.onEvent?.({ type: 'trial-end', name, result, resumed: !mine });
  });
  const fromDisk = (trial: PendingTrial): TrialResult | undefined => {
    const result = done.get(trial.name);
    if (!result) return undefined;
    results.push(result);
    resumed += 1;
    options.onEvent?.({ type: 'trial-end', name: trial.name, result, resumed: true });
    return result;
  };

  if (rule) {
    options.onEvent?.({ type: 'planned', total: plan.length, alreadyDone: done.size, reused, upTo: true });
    const run = async (index: number): Promise<TrialResult | undefined> =>
      fromDisk(trials[index]!) ?? (await runner.obtain(trials[index]!));
    await runSequentially(options, rule, plan, run, (stop) => {
      stops.push(stop);
      planned -= (rule.maxTrials - stop.trials) * options.arms.length;
    });
  } else {
    const pending = trials.filter((trial) => fromDisk(trial) === undefined);
    options.onEvent?.({ type: 'planned', total: plan.length, alreadyDone: resumed, reused });
    await Promise.all(pending.map(runner.obtain));
  }
  return {
    results,
    cancelled: runner.cancelled() || options.signal?.aborted === true,
    resumed,
    planned,
    sequential: sequential(),
    leftToOthers: await runner.leftToOthers(),
    budgetStopped: budgetStopped(budget, runner.notStarted()),
  };
}

function budgetStopped(budget: JobBudget | undefined, notStarted: number): JobOutcome['budgetStopped'] {
  return budget && notStarted > 0
    ? { spentUsd: budget.spentUsd, maxCostUsd: budget.maxCostUsd, notStarted }
    : undefined;
}
