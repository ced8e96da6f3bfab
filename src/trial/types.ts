import type { Agent, Arm } from '../agents/types.js';
import type { ArmSetup } from '../arms/setup.js';
import type { EnvironmentProvider, PreparedEnvironment } from '../environments/types.js';
import type { TrialGatewaySettings } from '../gateway/trial.js';
import type { JudgeSettings } from '../graders/types.js';
import type { TrialResult } from '../results/schema.js';
import type { Skill } from '../skills/types.js';
import type { Task } from '../task/types.js';
import type { Redactor } from '../util/secrets.js';
import type { SessionLog } from '../util/session-log.js';
import type { BaselineFingerprint } from './fingerprint.js';
import type { PhaseClock } from './phase-clock.js';

/** What to run: one task × one agent (+model) × one arm, the n-th time. */
export interface TrialSpec {
  jobId: string;
  task: Task;
  agent: Agent;
  model?: string | undefined;
  arm: Arm;
  /** 1-based index within the task × agent × model × arm cell. */
  trialIndex: number;
  /** What the arm gives this trial (src/arms/setup.ts); absent: armSetup(arm, task, trialIndex) without resources. */
  setup?: ArmSetup | undefined;
  /** No-skills arm: what the outcome depends on, recorded in result.json (src/trial/fingerprint.ts). */
  baseline?: BaselineFingerprint | undefined;
}

export interface TrialRuntime {
  provider: EnvironmentProvider;
  /** The task's prepared environment (memoized by the caller: one build per task per job). Failing here is an infra error of this trial. */
  prepare: () => Promise<PreparedEnvironment>;
  /** The trial's own directory (created here). */
  trialDir: string;
  /** Forwarded to the agent (keys, --env). */
  env: Record<string, string>;
  redactor: Redactor;
  /** Cancels the whole trial (Ctrl-C): the trial cleans up and throws InterruptedError; no result is written. */
  signal?: AbortSignal | undefined;
  /** Overrides task.toml's timeouts (seconds). */
  agentTimeoutSec?: number | undefined;
  verifierTimeoutSec?: number | undefined;
  /** Reward at or above which a trial counts as passed. */
  passThreshold?: number | undefined;
  /**
   * The isolation and tamper audits (src/trial/audit/): two scans of the environment, before and after the agent.
   * On unless false (`eval --no-audit`).
   */
  audit?: boolean | undefined;
  /**
   * Cap on the trial's workspace archive (`workspace.tar.gz`, compressed bytes); 0 turns archiving off. Default
   * DEFAULT_ARCHIVE_MAX_BYTES (50 MB).
   */
  workspaceArchiveMaxBytes?: number | undefined;
  /** Where llm_rubric judges get their model and keys (the host's; never forwarded); default: process.env. */
  judge?: JudgeSettings | undefined;
  /**
   * The model gateway of an agent that calls a model API (src/gateway/trial.ts): on by default, with these
   * settings (record, budgets, replay); false: none, the agent gets the forwarded keys itself (`eval --no-gateway`).
   */
  gateway?: TrialGatewaySettings | false | undefined;
  /** Earlier attempts that ended in retryable infra failures, recorded in the result. */
  retries?: TrialResult['retries'] | undefined;
  onPhase?: ((phase: string) => void) | undefined;
}

/** The error a trial's result carries (never thrown). */
export type TrialError = NonNullable<TrialResult['error']>;

/** One trial under way: what it runs, its identity, its effective timeouts, and where it records. */
export interface TrialContext {
  spec: TrialSpec;
  runtime: TrialRuntime;
  trialId: string;
  name: string;
  startedAt: Date;
  /** performance.now() at the start, for total_ms. */
  started: number;
  agentTimeoutSec: number;
  verifierTimeoutSec: number;
  /** The skills placed where the agent looks (the arm's setup; self-generated: the one it wrote, once written). */
  injectedSkills: Skill[];
  /** What the agent is told: the task's instruction, with the skills' text in the skill-as-prompt arm. */
  instruction: string;
  log: SessionLog;
  clock: PhaseClock;
}
