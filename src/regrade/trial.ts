import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { agents } from '../agents/registry.js';
import type { Agent } from '../agents/types.js';
import type { EnvironmentProvider, PreparedEnvironment } from '../environments/types.js';
import { restoreWorkdir } from '../environments/workspace-archive.js';
import type { TrialResult } from '../results/schema.js';
import type { Task } from '../task/types.js';
import { type PhaseOutcomes, runPhases, verify } from '../trial/lifecycle.js';
import { PhaseClock } from '../trial/phase-clock.js';
import type { AgentOutcome } from '../trial/phases/agent.js';
import { prepareWorkspace } from '../trial/phases/prepare.js';
import { trialResult, writeResult } from '../trial/result.js';
import { trialStatus } from '../trial/status.js';
import type { TrialContext } from '../trial/types.js';
import type { Redactor } from '../util/secrets.js';
import { SessionLog } from '../util/session-log.js';
import type { StoredTrial } from './source.js';
import { storedAgentResult, storedWorkspaceDiff } from './stored-transcript.js';

/** What regrading one trial needs besides the trial: the task as it is now and where things go. */
export interface RegradeTrialContext {
  task: Task;
  provider: EnvironmentProvider;
  prepare: () => Promise<PreparedEnvironment>;
  /** This regrade's directory (`<job>/regrades/<stamp>`): the trial's new directory goes under it. */
  regradeDir: string;
  redactor: Redactor;
  passThreshold: number;
  verifierTimeoutSec?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What the agent did stays what it did: result.json's fields about the agent and the arm come from the trial. */
const KEPT_FROM_TRIAL = [
  'job_id',
  'trial_id',
  'trial_name',
  'trial_index',
  'task',
  'agent',
  'model',
  'provider',
  'arm',
  'agent_result',
  'usage',
  'skills',
  'skills_activated',
  'isolation',
  'tamper',
  'retries',
] as const satisfies ReadonlyArray<keyof TrialResult>;

/** The agent phase's outcome as the stored result tells it: what decides agent_timeout and agent_error. */
function storedAgentOutcome(result: TrialResult): AgentOutcome {
  return {
    timedOut: result.status === 'agent_timeout',
    failure: result.status === 'agent_error' ? (result.error?.message ?? 'the agent failed') : undefined,
    failedBeforeModel: false,
  };
}

/** The trial's identity for the context the verify phase reads; its agent is never run. */
function standInAgent(name: string): Agent {
  return {
    ...agents.nop,
    name,
    imageLayer: undefined,
    run: () => Promise.reject(new Error('skill-eval regrade runs no agent')),
  };
}

function openContext(trial: StoredTrial, context: RegradeTrialContext, trialDir: string): TrialContext {
  const { result } = trial;
  mkdirSync(trialDir, { recursive: true });
  const log = new SessionLog(join(trialDir, 'session.jsonl'), context.redactor);
  return {
    spec: {
      jobId: result.job_id,
      task: context.task,
      agent: standInAgent(result.agent),
      model: result.model,
      arm: result.arm,
      trialIndex: result.trial_index,
    },
    runtime: {
      provider: context.provider,
      prepare: context.prepare,
      trialDir,
      env: {},
      redactor: context.redactor,
      signal: context.signal,
      passThreshold: context.passThreshold,
    },
    trialId: result.trial_id,
    name: result.trial_name,
    startedAt: new Date(),
    started: performance.now(),
    agentTimeoutSec: context.task.config.agent.timeoutSec,
    verifierTimeoutSec: context.verifierTimeoutSec ?? context.task.config.verifier.timeoutSec,
    injectedSkills: [],
    instruction: context.task.instruction,
    log,
    clock: new PhaseClock(log),
  };
}

/** regrade's phases: a fresh environment with the archived workdir restored, then the lifecycle's verification. */
async function restoreAndVerify(ctx: TrialContext, outcomes: PhaseOutcomes, archive: string): Promise<void> {
  const ids = { jobId: ctx.spec.jobId, trialId: ctx.trialId, trialName: ctx.name };
  const workspace = await ctx.clock.run('environment_setup', async () => {
    const ws = await prepareWorkspace(ctx.runtime, ids);
    outcomes.workspace = ws;
    await restoreWorkdir(ws, archive);
    return ws;
  });
  await ctx.clock.run('verifier', () => verify(ctx, workspace, outcomes));
}

/**
 * A fresh environment of the task as it is now, the archived workdir in it, then the lifecycle's own verification
 * (src/trial/lifecycle.ts verify) — no agent. The new result keeps what the agent did and gets a new verdict.
 */
export async function regradeTrial(trial: StoredTrial, context: RegradeTrialContext): Promise<TrialResult> {
  const trialDir = join(context.regradeDir, trial.name);
  const ctx = openContext(trial, context, trialDir);
  ctx.log.record({ type: 'note', text: `regrade of ${trial.dir}: no agent runs, the archived workdir is verified` });
  // A judge grades again from what the trial recorded: the agent's steps and the workdir's changes.
  const stored: PhaseOutcomes = {
    agent: { ...storedAgentOutcome(trial.result), result: storedAgentResult(trial.dir) },
    diff: storedWorkspaceDiff(trial.dir),
  };
  const archive = join(trial.dir, trial.result.workspace!.archive!);
  const outcomes = await runPhases(ctx, (t, o) => restoreAndVerify(t, o, archive), stored);
  const verdict = trialStatus({
    infra: outcomes.infra,
    agent: storedAgentOutcome(trial.result),
    verdict: outcomes.verdict,
    agentTimeoutSec: ctx.agentTimeoutSec,
    passThreshold: context.passThreshold,
  });
  const fresh = trialResult(ctx, outcomes, verdict);
  const kept = Object.fromEntries(KEPT_FROM_TRIAL.map((key) => [key, trial.result[key]]));
  const regraded: TrialResult = {
    ...fresh,
    ...kept,
    // The archive stays with the trial it came from; this result points there.
    workspace: undefined,
    regrade: {
      source_trial: relative(context.regradeDir, trial.dir),
      source_status: trial.result.status,
      source_reward: trial.result.reward,
      regraded_at: ctx.startedAt.toISOString(),
      verifier_digest_before: trial.result.verifier_digest,
      verifier_digest_after: outcomes.verifierDigest,
      task_checksum_before: trial.result.task_checksum,
      task_checksum_after: context.task.checksum,
    },
  };
  return writeResult(trialDir, context.redactor, regraded);
}
