import { EXIT_CODES } from '../errors.js';
import { EVAL_DEFAULTS, type EvalJobOptions } from '../jobs/eval-options.js';
import type { EvalNotice } from '../jobs/eval-tasks.js';
import { evalExit } from '../jobs/exit-code.js';
import { type EvalJobOutcome, runEvalJob } from '../jobs/run-eval.js';
import type { JobEvent } from '../jobs/run-job.js';
import { planValidatedEval } from '../jobs/validate-first.js';

/** `skill-eval eval`'s job options, each defaulting as its flag does, plus what a library caller controls. */
export type RunEvaluationOptions = Partial<EvalJobOptions> & {
  /** Base for task specs and resultsDir; process.cwd() by default. */
  cwd?: string | undefined;
  /** `--fail-under`: decides `exitCode` as the CLI's gate does. */
  failUnder?: number | undefined;
  /** Aborting stops the job: no new trials, running ones stopped and cleaned up, finished ones kept. */
  signal?: AbortSignal | undefined;
  /** Each trial's start, phase and result, as the CLI's progress display sees them. */
  onEvent?: ((event: JobEvent) => void) | undefined;
  /** Broken tasks, task warnings, which earlier job is continued. */
  onNotice?: ((notice: EvalNotice) => void) | undefined;
};

export interface EvaluationOutcome extends EvalJobOutcome {
  /** What the CLI would exit with (docs/exit-codes.md): 130 when cancelled. */
  exitCode: number;
  jobDir: string;
  /** Directories of the tasks left out because they are broken (each reported through onNotice). */
  brokenTasks: string[];
}

/**
 * Runs an eval job from TypeScript, as `skill-eval eval` does — plans it (or continues the unfinished job with
 * the same plan), runs every trial, writes the results and reports under `resultsDir` — and prints nothing.
 * Errors before any trial (usage, every task broken, no engine, an agent CLI that cannot be installed) are
 * thrown as SkillEvalError; what happens in a trial is in its result.
 */
export async function runEvaluation(options: RunEvaluationOptions = {}): Promise<EvaluationOutcome> {
  const { cwd = process.cwd(), failUnder, signal, onEvent, onNotice, ...given } = options;
  const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  const plan = await planValidatedEval({ ...EVAL_DEFAULTS, tasks: [], env: [], skill: [], ...defined }, cwd, {
    onNotice,
    signal,
  });
  const outcome = await runEvalJob(plan, { signal, onEvent });
  const { exitCode } = outcome.cancelled
    ? { exitCode: EXIT_CODES.interrupted }
    : evalExit({
        summary: outcome.summary,
        arms: plan.arms,
        brokenTasks: plan.brokenTasks.length,
        failUnder,
        jobDir: plan.jobDir,
      });
  return { ...outcome, exitCode, jobDir: plan.jobDir, brokenTasks: plan.brokenTasks.map((t) => t.dir) };
}
