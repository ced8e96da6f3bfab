import { join } from 'node:path';
import { TaskFormatError, UsageError } from '../errors.js';
import { displayPath } from '../util/problems.js';
import { checkTasks } from './check-tasks.js';
import type { EvalJobOptions } from './eval-options.js';
import type { BrokenTask } from './eval-tasks.js';
import { type EvalPlan, type PlanEvalContext, planEval } from './plan-eval.js';

/**
 * `eval --validate`: the oracle/nop check (`tasks check`'s code) on every task before any agent spends a token.
 * A task that fails it is reported and left out, like an invalid task: the others run, and the job exits 2 at the
 * end (docs/exit-codes.md). None passing is a TaskFormatError before anything else runs.
 */
async function validateTasksFirst(
  options: EvalJobOptions,
  cwd: string,
  context: PlanEvalContext,
): Promise<{ tasks: string[]; leftOut: BrokenTask[] }> {
  const notify = context.onNotice ?? (() => {});
  notify({ level: 'note', message: '--validate: checking every task first (the oracle must pass, nop must fail)' });
  const outcome = await checkTasks(
    {
      tasks: options.tasks,
      provider: options.provider,
      trials: 1,
      concurrency: options.concurrency,
      resultsDir: join(options.resultsDir, 'checks'),
      tasksDir: options.tasksDir,
      forceBuild: options.forceBuild,
      network: options.network,
    },
    cwd,
    // The tasks' warnings come once, from the job's own planning.
    { onNotice: (notice) => notice.level !== 'warning' && notify(notice) },
  );
  const leftOut: BrokenTask[] = [...outcome.invalid];
  for (const check of outcome.checks.filter((c) => !c.ok)) {
    const message = `left out by --validate: ${check.problems.join('; ')} (oracle ${check.oracle}, nop ${check.nop})`;
    notify({ level: 'error', message: `${displayPath(check.dir, cwd)}: ${message}` });
    leftOut.push({ dir: check.dir, problems: [{ file: displayPath(check.dir, cwd), message, severity: 'error' }] });
  }
  const tasks = outcome.checks.filter((c) => c.ok).map((c) => c.dir);
  if (tasks.length === 0)
    throw new TaskFormatError([], {
      hint: `--validate: no task passed the oracle/nop check (its trials: ${outcome.jobDir}); fix the tasks, or run without --validate`,
    });
  return { tasks, leftOut };
}

/** planEval, after the --validate check when it is asked for: the tasks that failed it join the broken ones. */
export async function planValidatedEval(
  options: EvalJobOptions,
  cwd: string,
  context: PlanEvalContext = {},
): Promise<EvalPlan> {
  if (!options.validate) return planEval(options, cwd, context);
  if (options.resume)
    throw new UsageError('--validate cannot be combined with --resume: a resumed job keeps its tasks', {
      hint: `check the tasks apart: skill-eval tasks check … --provider=${typeof options.provider === 'string' ? options.provider : options.provider.name}`,
    });
  const { tasks, leftOut } = await validateTasksFirst(options, cwd, context);
  const plan = await planEval({ ...options, tasks }, cwd, context);
  return { ...plan, brokenTasks: [...leftOut, ...plan.brokenTasks] };
}
