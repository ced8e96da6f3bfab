import { UsageError } from '../errors.js';
import { EVAL_DEFAULTS } from '../jobs/eval-options.js';
import { handleCancelSignals } from '../jobs/signals.js';
import { regradeJob } from '../regrade/regrade.js';
import { formatRegrade } from '../regrade/report.js';
import type { RegisterCommand } from './registry.js';

interface RegradeFlags {
  task: string[];
  resultsDir: string;
  concurrency: string;
  json: boolean;
}

function concurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--concurrency: expected a whole number ≥ 1, found "${value}"`);
  return n;
}

/** `skill-eval regrade JOB`: parses, runs regradeJob (src/regrade/regrade.ts), prints the change. */
export const registerRegrade: RegisterCommand = (program, setExitCode) => {
  program
    .command('regrade')
    .description(
      "Verify a job's stored trials again with each task's current tests (no agent runs): each trial's archived workdir (workspace.tar.gz) goes into a fresh environment of the job's provider. New results go to <job>/regrades/<stamp>/.",
    )
    .argument('<job>', 'a job name under <results-dir>/jobs, or the path of a job directory')
    .option('--task <name...>', 'only the trials of these tasks')
    .option('--results-dir <dir>', 'where the jobs are', EVAL_DEFAULTS.resultsDir)
    .option('--concurrency <n>', 'trials verified at once', String(EVAL_DEFAULTS.concurrency))
    .option('--json', 'print regrade.json on stdout', false)
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 2 no such job or task, 3 a regraded trial ended in a verifier or infrastructure error, 130 interrupted (docs/exit-codes.md).`,
    )
    .action(async (job: string, flags: RegradeFlags) => {
      const controller = new AbortController();
      const restore = handleCancelSignals({
        onCancel: () => controller.abort(),
        onForce: () => process.exit(130),
      });
      try {
        const outcome = await regradeJob(
          {
            job,
            tasks: flags.task ?? [],
            resultsDir: flags.resultsDir,
            concurrency: concurrency(flags.concurrency),
            signal: controller.signal,
          },
          process.cwd(),
        );
        if (flags.json) process.stdout.write(`${JSON.stringify(outcome.report, undefined, 2)}\n`);
        else process.stdout.write(`${formatRegrade(outcome.report)}\n`);
        setExitCode(outcome.exitCode);
      } finally {
        restore();
      }
    });
};
