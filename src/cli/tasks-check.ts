import { availableParallelism } from 'node:os';
import { Option } from 'commander';
import { EXIT_CODES, UsageError } from '../errors.js';
import { CALIBRATION_MARGIN, calibrateRubrics, type RubricCalibration } from '../graders/calibration.js';
import type { CellSummary } from '../jobs/summary.js';
import { displayPath } from '../util/problems.js';
import { renderTable } from '../util/table.js';
import { runEval } from './eval.js';
import type { RegisterCommand } from './registry.js';
import { tasksCommand } from './tasks.js';

export interface TaskCheck {
  task: string;
  ok: boolean;
  oracle: string;
  nop: string;
  problems: string[];
}

function describeCell(cell: CellSummary | undefined): string {
  if (!cell) return 'no result';
  return `${cell.passed}/${cell.trials - cell.errors} passed${cell.errors > 0 ? `, ${cell.errors} error(s)` : ''}`;
}

/** A task is healthy when its solution passes (oracle) and the untouched environment fails (nop). */
export function judgeTask(task: string, oracle: CellSummary | undefined, nop: CellSummary | undefined): TaskCheck {
  const problems: string[] = [];
  if (!oracle || oracle.errors > 0 || oracle.passed < oracle.trials)
    problems.push('oracle did not pass every trial: the solution or the verifier is broken');
  if (!nop || nop.errors > 0) problems.push('nop ended in errors: the verifier cannot judge the untouched environment');
  else if (nop.passed > 0) problems.push('nop passed: the verifier rewards the untouched environment');
  return { task, ok: problems.length === 0, oracle: describeCell(oracle), nop: describeCell(nop), problems };
}

/** Each llm_rubric grader's mean score on the oracle vs nop (docs/graders.md, "Calibration"). */
function renderRubrics(rubrics: readonly RubricCalibration[]): string {
  const show = (score: number | undefined): string => (score === undefined ? 'no score' : score.toFixed(2));
  return renderTable(
    ['Task', 'Rubric', 'Oracle', 'Nop', `Calibrated (gap ≥ ${CALIBRATION_MARGIN})`],
    rubrics.map((r) => [r.task, r.grader, show(r.oracle), show(r.nop), r.ok ? 'ok' : 'NO']),
  );
}

export const registerTasksCheck: RegisterCommand = (program, setExitCode) => {
  tasksCommand(program)
    .command('check')
    .description('Run the oracle (must pass) and nop (must fail) on every task, concurrently, and report broken tasks.')
    .argument('[dirs...]', 'task directories, names, folders of tasks, globs or suite files', ['./tasks'])
    .addOption(new Option('--provider <name>', 'where trials run').choices(['local', 'docker']).default('docker'))
    .option(
      '--trials <n>',
      'trials per agent',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new UsageError(`--trials: expected a positive whole number, found "${v}"`);
        return n;
      },
      1,
    )
    .option(
      '--concurrency <n>',
      'trials at once',
      (v: string) => Math.max(1, Number(v) || 1),
      Math.max(1, Math.min(4, availableParallelism())),
    )
    .option('--grader-model <id>', 'judge model of llm_rubric graders that name none (docs/graders.md)')
    .option(
      '--pass-threshold <x>',
      'reward at or above which the oracle passes (a rubric rarely gives full marks)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0 || n > 1)
          throw new UsageError(`--pass-threshold: expected a number in (0, 1], found "${v}"`);
        return n;
      },
      1,
    )
    .option('--results-dir <dir>', 'where the check writes its results', 'results/checks')
    .option('--tasks-dir <dir>', 'where task names are looked up', 'tasks')
    .option('--json', 'print the report as JSON on stdout', false)
    .action(
      async (
        dirs: string[],
        options: {
          provider: string;
          trials: number;
          concurrency: number;
          resultsDir: string;
          tasksDir: string;
          json: boolean;
          graderModel?: string | undefined;
          passThreshold: number;
        },
      ) => {
        const outcome = await runEval(
          {
            tasks: dirs,
            agent: 'oracle,nop',
            provider: options.provider,
            trials: options.trials,
            skills: false,
            compare: false,
            resultsDir: options.resultsDir,
            tasksDir: options.tasksDir,
            env: [],
            concurrency: options.concurrency,
            passThreshold: options.passThreshold,
            graderModel: options.graderModel,
            forceBuild: false,
            newJob: true,
            maxRetries: 1,
            quiet: true,
            json: false,
            print: false,
          },
          process.cwd(),
        );
        const tasks = [...new Set(outcome.summary.cells.map((c) => c.task))];
        const checks = tasks.map((task) =>
          judgeTask(
            task,
            outcome.summary.cells.find((c) => c.task === task && c.agent === 'oracle'),
            outcome.summary.cells.find((c) => c.task === task && c.agent === 'nop'),
          ),
        );
        const rubrics = calibrateRubrics(outcome.results);
        for (const rubric of rubrics.filter((r) => !r.ok)) {
          const check = checks.find((c) => c.task === rubric.task);
          if (!check) continue;
          check.ok = false;
          check.problems.push(rubric.problem ?? 'rubric not calibrated');
        }
        const broken = checks.filter((c) => !c.ok).length + outcome.brokenTasks.length;
        if (options.json) {
          console.log(
            JSON.stringify(
              {
                ok: broken === 0,
                job_dir: outcome.jobDir,
                tasks: checks,
                rubrics,
                invalid_tasks: outcome.brokenTasks,
              },
              undefined,
              2,
            ),
          );
        } else {
          console.log(
            renderTable(
              ['Task', 'Oracle (must pass)', 'Nop (must fail)', 'Verdict'],
              checks.map((c) => [c.task, c.oracle, c.nop, c.ok ? 'ok' : `BROKEN: ${c.problems.join('; ')}`]),
            ),
          );
          if (rubrics.length > 0) console.log(`\n${renderRubrics(rubrics)}`);
          for (const dir of outcome.brokenTasks)
            console.log(`${displayPath(dir)}: invalid task (see the errors above)`);
          console.log(
            `\n${checks.length + outcome.brokenTasks.length} tasks: ${checks.length - checks.filter((c) => !c.ok).length} ok, ${broken} broken`,
          );
        }
        // Infrastructure failures keep their own code; otherwise a broken task is a task problem.
        setExitCode(
          outcome.exitCode === EXIT_CODES.infra ? EXIT_CODES.infra : broken > 0 ? EXIT_CODES.taskFormat : EXIT_CODES.ok,
        );
      },
    );
};
