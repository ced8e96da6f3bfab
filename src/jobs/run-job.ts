import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Agent, Arm } from '../agents/types.js';
import type { EnvironmentProvider } from '../environments/types.js';
import { InterruptedError } from '../errors.js';
import type { JudgeSettings } from '../graders/types.js';
import { type TrialResult, trialResultSchema } from '../results/schema.js';
import type { Task } from '../task/types.js';
import type { BaselineFingerprint } from '../trial/fingerprint.js';
import { runTrial, type TrialSpec, trialName } from '../trial/run-trial.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { removeTree } from '../util/remove-tree.js';
import type { Redactor } from '../util/secrets.js';
import { planTrials } from './plan.js';
import { prepareOnce } from './prepare-once.js';
import { summarizeResults } from './summary.js';

export interface JobAgent {
  agent: Agent;
  model?: string | undefined;
}

export type JobEvent =
  /** `reused`: of those already done, the trials copied from an earlier job (`eval --baseline-from`). */
  | { type: 'planned'; total: number; alreadyDone: number; reused?: number | undefined }
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
  trials: number;
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
  onEvent?: ((event: JobEvent) => void) | undefined;
}

export interface JobOutcome {
  results: TrialResult[];
  cancelled: boolean;
  /** Trials whose results were already in the job directory. */
  resumed: number;
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
  });

  const results: TrialResult[] = [];
  let resumed = 0;
  const pending: Array<{ spec: TrialSpec; name: string; dir: string }> = [];
  for (const item of plan) {
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
    const dir = join(options.jobDir, name);
    const done = await finishedResult(dir);
    if (done) {
      results.push(done);
      resumed += 1;
      options.onEvent?.({ type: 'trial-end', name, result: done, resumed: true });
    } else {
      pending.push({ spec, name, dir });
    }
  }
  const reused = results.filter((r) => r.reused_from !== undefined).length;
  options.onEvent?.({ type: 'planned', total: plan.length, alreadyDone: resumed, reused });

  // summary.json is derived from the trials' results (a torn or stale copy is rebuilt by the next run): while the
  // job runs it is refreshed at most once a second, so a job of thousands of trials doesn't rewrite an O(trials)
  // summary after every trial; at the end it is written once more, and an error there surfaces.
  const summaryPath = join(options.jobDir, 'summary.json');
  let summaryWrittenAt = Number.NEGATIVE_INFINITY;
  const writeSummary = (): void => {
    summaryWrittenAt = performance.now();
    writeJsonAtomicSync(summaryPath, summarizeResults(options.jobId, plan.length, results, options.passThreshold));
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

  const runWithRetries = async (spec: TrialSpec, name: string, dir: string): Promise<TrialResult> => {
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
  };

  try {
    await Promise.all(
      pending.map(({ spec, name, dir }) =>
        limit(async () => {
          if (options.signal?.aborted) return;
          options.onEvent?.({ type: 'trial-start', name, task: spec.task.name, arm: spec.arm, agent: spec.agent.name });
          try {
            const result = await runWithRetries(spec, name, dir);
            results.push(result);
            refreshSummary();
            options.onEvent?.({ type: 'trial-end', name, result, resumed: false });
          } catch (error) {
            if (error instanceof InterruptedError) {
              cancelled = true;
              return;
            }
            throw error;
          }
        }),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    writeSummary();
  }
  return { results, cancelled: cancelled || options.signal?.aborted === true, resumed };
}
