import type { TrialResult, TrialStatus } from '../results/schema.js';
import type { SkippedTrial } from './source.js';

/** One regraded trial: where it came from and where its new result is. */
export interface RegradedTrial {
  name: string;
  task: string;
  before: { status: TrialStatus; reward?: number | undefined };
  after: { status: TrialStatus; reward?: number | undefined; error?: string | undefined };
}

/** `regrade.json` in the regrade directory, and what `regrade --json` prints. */
export interface RegradeReport {
  schema: 'skill-eval/regrade@1';
  job_id: string;
  job_dir: string;
  /** The directory of the new results (`<job>/regrades/<stamp>`), which `skill-eval analyze` reads. */
  regrade_dir: string;
  provider: string;
  pass_threshold: number;
  tasks: Array<{
    name: string;
    checksum_before: string;
    checksum_after: string;
    verifier_digest_after?: string | undefined;
  }>;
  regraded: number;
  /** Mean reward over the regraded trials with a reward, before and after. */
  mean_reward_before?: number | undefined;
  mean_reward_after?: number | undefined;
  passed_to_failed: number;
  failed_to_passed: number;
  /** Regraded trials whose new verification gave no reward, or whose environment failed. */
  verifier_errors: number;
  infra_errors: number;
  trials: RegradedTrial[];
  skipped: SkippedTrial[];
}

const mean = (values: number[]): number | undefined =>
  values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;

export function regradedTrial(name: string, before: TrialResult, after: TrialResult): RegradedTrial {
  return {
    name,
    task: before.task,
    before: { status: before.status, reward: before.reward },
    after: { status: after.status, reward: after.reward, error: after.error?.message },
  };
}

/** Counts and means of the change (the head of regrade.json). */
export function summarizeChange(
  trials: readonly RegradedTrial[],
): Pick<
  RegradeReport,
  | 'regraded'
  | 'mean_reward_before'
  | 'mean_reward_after'
  | 'passed_to_failed'
  | 'failed_to_passed'
  | 'verifier_errors'
  | 'infra_errors'
> {
  const rewards = (side: 'before' | 'after') =>
    trials.flatMap((trial) => (trial[side].reward === undefined ? [] : [trial[side].reward!]));
  const passed = (status: TrialStatus) => status === 'passed';
  return {
    regraded: trials.length,
    mean_reward_before: mean(rewards('before')),
    mean_reward_after: mean(rewards('after')),
    passed_to_failed: trials.filter((t) => passed(t.before.status) && !passed(t.after.status)).length,
    failed_to_passed: trials.filter((t) => !passed(t.before.status) && passed(t.after.status)).length,
    verifier_errors: trials.filter((t) => t.after.status === 'verifier_error').length,
    infra_errors: trials.filter((t) => t.after.status === 'infra_error').length,
  };
}

const reward = (value: number | undefined): string => (value === undefined ? 'n/a' : value.toFixed(2));
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `regraded 40 trials: mean reward 0.55 → 0.60; 2 passed→failed, 4 failed→passed`, then errors and skips. */
export function formatRegrade(report: RegradeReport): string {
  const lines = [
    `regraded ${plural(report.regraded, 'trial')}: mean reward ${reward(report.mean_reward_before)} → ` +
      `${reward(report.mean_reward_after)}; ${report.passed_to_failed} passed→failed, ${report.failed_to_passed} failed→passed`,
  ];
  for (const trial of report.trials) {
    if (trial.after.status === 'verifier_error' || trial.after.status === 'infra_error')
      lines.push(`  ${trial.name}: ${trial.after.status}: ${trial.after.error ?? 'no detail'}`);
  }
  if (report.skipped.length > 0) {
    lines.push(`skipped ${plural(report.skipped.length, 'trial')}:`);
    for (const skipped of report.skipped) lines.push(`  ${skipped.name}: ${skipped.reason}`);
  }
  const changed = report.tasks.filter((task) => task.checksum_before !== task.checksum_after);
  for (const task of changed)
    lines.push(
      `task ${task.name} changed since the job (checksum ${task.checksum_before.slice(0, 12)} → ${task.checksum_after.slice(0, 12)})`,
    );
  lines.push(`results: ${report.regrade_dir} (skill-eval analyze ${report.regrade_dir})`);
  return lines.join('\n');
}
