import { join } from 'node:path';
import type { EnvironmentProvider } from '../environments/types.js';
import { calibrateRubrics, type RubricCalibration } from '../graders/calibration.js';
import type { TrialResult } from '../results/schema.js';
import type { BrokenTask, EvalNotice } from './eval-tasks.js';
import { planEval } from './plan-eval.js';
import { runEvalJob } from './run-eval.js';
import type { CellSummary } from './summary.js';

/** One task's oracle/nop verdict. */
export interface TaskCheck {
  task: string;
  /** The task's directory. */
  dir: string;
  ok: boolean;
  oracle: string;
  nop: string;
  problems: string[];
  /** The oracle passed some of its runs but not all (a flaky verifier or solution): how many of how many. */
  flaky?: { passed: number; runs: number } | undefined;
}

function describeCell(cell: CellSummary | undefined): string {
  if (!cell) return 'no result';
  return `${cell.passed}/${cell.trials - cell.errors} passed${cell.errors > 0 ? `, ${cell.errors} error(s)` : ''}`;
}

/** A task is healthy when its solution passes (oracle) and the untouched environment fails (nop). */
export function judgeTask(
  task: string,
  oracle: CellSummary | undefined,
  nop: CellSummary | undefined,
  dir = task,
): TaskCheck {
  const problems: string[] = [];
  const runs = oracle ? oracle.trials - oracle.errors : 0;
  // Passing some runs and failing others, with nothing changed in between, is noise the Δ would inherit.
  const flaky = oracle && oracle.passed > 0 && oracle.passed < runs ? { passed: oracle.passed, runs } : undefined;
  if (flaky)
    problems.push(
      `flaky verifier: the oracle passed ${flaky.passed} of ${flaky.runs} runs (the same solution must pass every time)`,
    );
  else if (!oracle || oracle.errors > 0 || oracle.passed < oracle.trials)
    problems.push('oracle did not pass every trial: the solution or the verifier is broken');
  if (!nop || nop.errors > 0) problems.push('nop ended in errors: the verifier cannot judge the untouched environment');
  else if (nop.passed > 0) problems.push('nop passed: the verifier rewards the untouched environment');
  const check: TaskCheck = {
    task,
    dir,
    ok: problems.length === 0,
    oracle: describeCell(oracle),
    nop: describeCell(nop),
    problems,
  };
  if (flaky) check.flaky = flaky;
  return check;
}

export interface CheckTasksOptions {
  /** Task directories, names, folders of tasks, globs or suite files (as `eval` takes them). */
  tasks: string[];
  provider: string | EnvironmentProvider;
  trials: number;
  /** Runs of the oracle (and nop) per task, to catch a flaky verifier (`tasks check --repeat`); at least `trials`. */
  repeat?: number | undefined;
  concurrency: number;
  resultsDir: string;
  tasksDir?: string | undefined;
  forceBuild?: boolean | undefined;
  network?: string | undefined;
  /** The reward the oracle must reach (1 by default). */
  passThreshold?: number | undefined;
  /** The judge of llm_rubric graders that name none (`--grader-model`). */
  graderModel?: string | undefined;
}

export interface CheckTasksOutcome {
  /** One verdict per task that ran. */
  checks: TaskCheck[];
  /** Each llm_rubric grader's oracle and nop scores; an uncalibrated one also fails its task's check. */
  rubrics: RubricCalibration[];
  /** Tasks that could not run at all (invalid), each reported through onNotice. */
  invalid: BrokenTask[];
  jobDir: string;
  /** Trials that ended in an infrastructure error: the check says nothing about those tasks. */
  infraErrors: number;
  cancelled: boolean;
}

/** Why a failing oracle trial failed, from its result: the verifier's verdict or the error. */
function oracleDetail(results: readonly TrialResult[], task: string, jobDir: string): string | undefined {
  const failed = results.find((r) => r.task === task && r.agent === 'oracle' && r.status !== 'passed');
  if (!failed) return undefined;
  const why = failed.error ? `${failed.status}: ${failed.error.message}` : `${failed.status}, reward ${failed.reward}`;
  return `oracle trial ${why} (see ${join(jobDir, failed.trial_name, 'verifier')})`;
}

/**
 * `tasks check`, `eval --validate` and `init`'s drafting share this: the oracle (must pass) and nop (must fail)
 * on every task, as one job under `resultsDir`, then one verdict per task. Prints nothing.
 */
export async function checkTasks(
  options: CheckTasksOptions,
  cwd: string,
  context: { onNotice?: ((notice: EvalNotice) => void) | undefined; signal?: AbortSignal | undefined } = {},
): Promise<CheckTasksOutcome> {
  const plan = await planEval(
    {
      tasks: options.tasks,
      agent: 'oracle,nop',
      provider: options.provider,
      trials: Math.max(options.trials, options.repeat ?? 1),
      skills: false,
      compare: false,
      resultsDir: options.resultsDir,
      tasksDir: options.tasksDir,
      env: [],
      concurrency: options.concurrency,
      passThreshold: options.passThreshold ?? 1,
      graderModel: options.graderModel,
      forceBuild: options.forceBuild ?? false,
      network: options.network,
      newJob: true,
      maxRetries: 1,
    },
    cwd,
    // No key is forwarded to the oracle or nop: neither calls a model. Judges (host side) find theirs.
    { onNotice: context.onNotice, hostEnv: {}, judgeEnv: process.env },
  );
  const outcome = await runEvalJob(plan, { signal: context.signal });
  const cells = outcome.summary.cells;
  const checks = plan.tasks.map((task) => {
    const check = judgeTask(
      task.name,
      cells.find((c) => c.task === task.name && c.agent === 'oracle'),
      cells.find((c) => c.task === task.name && c.agent === 'nop'),
      task.dir,
    );
    const detail = check.ok ? undefined : oracleDetail(outcome.results, task.name, plan.jobDir);
    if (detail) check.problems.push(detail);
    return check;
  });
  const rubrics = calibrateRubrics(outcome.results);
  for (const rubric of rubrics.filter((r) => !r.ok)) {
    const check = checks.find((c) => c.task === rubric.task);
    if (!check) continue;
    check.ok = false;
    check.problems.push(rubric.problem ?? 'rubric not calibrated');
  }
  return {
    checks,
    rubrics,
    invalid: plan.brokenTasks,
    jobDir: plan.jobDir,
    infraErrors: outcome.summary.statuses.infra_error ?? 0,
    cancelled: outcome.cancelled,
  };
}
