import type { Arm } from '../agents/types.js';
import { EXIT_CODES } from '../errors.js';
import type { JobSummary } from './summary.js';

export interface EvalExit {
  /** What `skill-eval eval` exits with (docs/exit-codes.md). */
  exitCode: number;
  /** One line per reason for a non-zero code: the gate, broken tasks, infrastructure errors. */
  reasons: string[];
}

export interface EvalExitInput {
  summary: JobSummary;
  /** The arms the job ran; the gate applies to the first (with-skills, or the baseline alone). */
  arms: readonly Arm[];
  brokenTasks: number;
  /** `--fail-under`: the pass rate each task's gated arm must reach. */
  failUnder?: number | undefined;
  jobDir: string;
}

const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;

/** A finished job's exit code. Infrastructure errors outrank broken tasks, which outrank a failed gate. */
export function evalExit({ summary, arms, brokenTasks, failUnder, jobDir }: EvalExitInput): EvalExit {
  let exitCode: number = EXIT_CODES.ok;
  const reasons: string[] = [];
  if (failUnder !== undefined) {
    const failing = summary.cells.filter(
      (c) => c.arm === arms[0] && (c.pass_rate === undefined || c.pass_rate < failUnder),
    );
    if (failing.length > 0) {
      const cells = failing.map(
        (c) => `${c.task} ${c.arm} ${c.pass_rate === undefined ? 'no data' : percent(c.pass_rate)}`,
      );
      reasons.push(`gate: ${cells.join(', ')} below --fail-under ${percent(failUnder)}`);
      exitCode = EXIT_CODES.gateFailed;
    }
  }
  if (brokenTasks > 0) exitCode = EXIT_CODES.taskFormat;
  const infraErrors = summary.statuses.infra_error ?? 0;
  if (infraErrors > 0) {
    reasons.push(
      `${infraErrors} trial(s) ended in an infrastructure error: they are not counted as failures; see the trial directories under ${jobDir}`,
    );
    exitCode = EXIT_CODES.infra;
  }
  return { exitCode, reasons };
}
