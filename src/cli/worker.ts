import { Option } from 'commander';
import { DEFAULT_STALE_CLAIM_SEC } from '../jobs/claims.js';
import { type WorkerFlags, workerJobOptions } from '../jobs/worker.js';
import { positiveInt, positiveNumber, runEval, wholeNumber } from './eval.js';
import type { RegisterCommand } from './registry.js';

/** `skill-eval worker JOB_DIR`: one more process on an existing job, taking trials nobody has claimed. */
export const registerWorker: RegisterCommand = (program, setExitCode) => {
  program
    .command('worker')
    .description(
      'Work on an existing job (from `eval --plan-only`, or one that runs elsewhere) until nothing is left: each trial runs once, in whichever process claims it (docs/scale.md).',
    )
    .argument('<job-dir>', 'the job directory (<results-dir>/jobs/<id>, with its job.json)')
    .option('--concurrency <n>', "trials this worker runs at once (default: the job's)", positiveInt('--concurrency'))
    .addOption(
      new Option('--provider <name>', "where trials run: must be the job's provider (job.json)").choices([
        'local',
        'docker',
      ]),
    )
    .option(
      '--max-retries <n>',
      'extra attempts for trials that hit an infrastructure failure',
      wholeNumber('--max-retries'),
    )
    .option(
      '--no-wait',
      'leave when nothing is left to claim, instead of waiting for (and taking over, if they die) the trials other workers hold; exits 5 when the job is not complete',
    )
    .option(
      '--stale-claim-timeout <sec>',
      `take over another host's claim when its heartbeat has not moved for this long (default ${DEFAULT_STALE_CLAIM_SEC})`,
      positiveNumber('--stale-claim-timeout'),
    )
    .option('--quiet', 'no progress lines', false)
    .option('--json', 'print the job summary as JSON on stdout', false)
    .addHelpText(
      'after',
      `
Exit codes: as eval's (0 done, 3 infrastructure errors, 130 interrupted, …), and 5 when --no-wait left trials
other workers still hold (docs/exit-codes.md).`,
    )
    .action(async (jobDir: string, flags: WorkerFlags & { wait: boolean; quiet: boolean; json: boolean }) => {
      const cwd = process.cwd();
      const { options, hostEnv } = await workerJobOptions(jobDir, { ...flags, noWait: !flags.wait }, cwd, process.env);
      const outcome = await runEval(
        { ...options, quiet: flags.quiet, json: flags.json, staleClaimTimeout: flags.staleClaimTimeout },
        cwd,
        process.argv,
        hostEnv,
      );
      setExitCode(outcome.exitCode);
    });
};
