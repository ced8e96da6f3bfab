import type { TrialStatus } from './schema.js';

export type { Arm } from '../arms/spec.js';

import type { Arm } from '../arms/spec.js';

/** What analytics needs of one trial, the same for our results and legacy reports. */
export interface TrialRecord {
  source: 'trial-result' | 'legacy-report';
  file: string;
  /** Unique per trial; duplicates (the same file reached twice) are dropped. */
  trialId: string;
  trialName: string;
  task: string;
  agent: string;
  model: string | undefined;
  arm: Arm;
  status: TrialStatus;
  reward: number | undefined;
  durationMs: number | undefined;
  /** Input + output tokens, when the agent reported usage. */
  tokens: number | undefined;
  /** Undefined when the agent cannot tell which skills it used. */
  skillsActivated: readonly string[] | undefined;
  errorMessage: string | undefined;
  /** A no-skills trial a skill reached (result.json's isolation block); absent for older results and legacy reports. */
  contaminated?: boolean | undefined;
  /** The agent touched verifier territory (result.json's tamper block). */
  tampered?: boolean | undefined;
  /** The job a reused trial ran in (result.json's reused_from: `eval --baseline-from`). */
  reusedFrom?: string | undefined;
  /** The job the trial ran in (result.json job_id); absent for legacy reports. */
  jobId?: string | undefined;
  /** Skills the trial was given (result.json `skills`, by reference: no copy per trial); absent for legacy reports. */
  skills?: readonly { name: string }[] | undefined;
  /** Every supplied skill was where the agent looks (isolation.skills[].present); absent when not audited. */
  skillsPresent?: boolean | undefined;
  /** The isolation audit saw the agent open a SKILL.md (isolation.skills[].opened); absent when not audited. */
  skillsOpened?: boolean | undefined;
  /** The trial's session.jsonl, relative to the result file's directory; read only by `analyze --funnel`. */
  sessionLog?: string | undefined;
  /** The agent's cost in US dollars, when its CLI reported one (or a price table estimated it). */
  costUsd?: number | undefined;
  /** The model ids the trial's gateway saw serve its calls (usage.modelsServed); absent without a gateway. */
  modelsServed?: string[] | undefined;
  /** Graders that called a judge model (graders[].model). */
  judgeCalls?: number | undefined;
  /** What the audits found, in one line, for the report's lists. */
  auditNote?: string | undefined;
}
