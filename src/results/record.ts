import type { TrialStatus } from './schema.js';

export type Arm = 'with-skills' | 'no-skills';

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
  /** What the audits found, in one line, for the report's lists. */
  auditNote?: string | undefined;
}
