import { availableParallelism } from 'node:os';
import { Option } from 'commander';
import { EXIT_CODES, UsageError } from '../errors.js';
import { CALIBRATION_MARGIN, type RubricCalibration } from '../graders/calibration.js';
import { checkTasks } from '../jobs/check-tasks.js';
import { displayPath } from '../util/problems.js';
import { renderTable } from '../util/table.js';
import { withCancel } from './cancel.js';
import type { RegisterCommand } from './registry.js';
import { tasksCommand } from './tasks.js';

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
      '--repeat <n>',
      'run the oracle (and nop) N times per task and flag a verifier that does not give the same verdict every time',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new UsageError(`--repeat: expected a positive whole number, found "${v}"`);
        return n;
      },
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
          repeat?: number | undefined;
          concurrency: number;
          resultsDir: string;
          tasksDir: string;
          json: boolean;
          graderModel?: string | undefined;
          passThreshold: number;
        },
      ) => {
        const outcome = await withCancel((signal) =>
          checkTasks(
            {
              tasks: dirs,
              provider: options.provider,
              trials: options.trials,
              repeat: options.repeat,
              concurrency: options.concurrency,
              resultsDir: options.resultsDir,
              tasksDir: options.tasksDir,
              passThreshold: options.passThreshold,
              graderModel: options.graderModel,
            },
            process.cwd(),
            { signal, onNotice: ({ level, message }) => level === 'error' && console.error(`error: ${message}`) },
          ),
        );
        if (outcome.cancelled) {
          console.error(`cancelled: the check's finished trials are in ${outcome.jobDir}`);
          setExitCode(EXIT_CODES.interrupted);
          return;
        }
        const { checks } = outcome;
        const brokenTasks = outcome.invalid.map((t) => t.dir);
        const broken = checks.filter((c) => !c.ok).length + brokenTasks.length;
        if (options.json) {
          console.log(
            JSON.stringify(
              {
                ok: broken === 0,
                job_dir: outcome.jobDir,
                tasks: checks,
                rubrics: outcome.rubrics,
                invalid_tasks: brokenTasks,
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
          if (outcome.rubrics.length > 0) console.log(`\n${renderRubrics(outcome.rubrics)}`);
          for (const dir of brokenTasks) console.log(`${displayPath(dir)}: invalid task (see the errors above)`);
          console.log(
            `\n${checks.length + brokenTasks.length} tasks: ${checks.length - checks.filter((c) => !c.ok).length} ok, ${broken} broken`,
          );
        }
        // Infrastructure failures keep their own code; otherwise a broken task is a task problem.
        setExitCode(outcome.infraErrors > 0 ? EXIT_CODES.infra : broken > 0 ? EXIT_CODES.taskFormat : EXIT_CODES.ok);
      },
    );
};
