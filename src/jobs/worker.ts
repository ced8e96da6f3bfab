import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { loadEvalDotEnv } from './eval-flags.js';
import { EVAL_DEFAULTS, type EvalJobOptions } from './eval-options.js';
import { readJobConfig } from './job-config.js';

/** `skill-eval worker`'s flags: how this process works on the job; the job itself decides the trials. */
export interface WorkerFlags {
  concurrency?: number | undefined;
  /** Must be the job's provider when given (a job's trials all run on one). */
  provider?: string | undefined;
  maxRetries?: number | undefined;
  noWait: boolean;
  staleClaimTimeout?: number | undefined;
}

/**
 * The eval options of a worker on an existing job: its saved plan (as `eval --resume` reads it), the variables
 * job.json says were forwarded (from this machine's shell and .env files), this worker's concurrency.
 */
export async function workerJobOptions(
  jobDirArg: string,
  flags: WorkerFlags,
  cwd: string,
  shellEnv: NodeJS.ProcessEnv,
): Promise<{ options: EvalJobOptions & { noWait: boolean; role: string }; hostEnv: NodeJS.ProcessEnv }> {
  const jobDir = resolve(cwd, jobDirArg);
  const config = await readJobConfig(jobDir).catch((error: unknown) => {
    throw new UsageError(`${jobDir}/job.json is not a valid job file`, { cause: error });
  });
  if (!config)
    throw new UsageError(`no job at ${jobDir} (expected ${jobDir}/job.json)`, {
      hint: 'create one with: skill-eval eval … --plan-only (it prints the job directory)',
    });
  if (flags.provider !== undefined && flags.provider !== config.provider)
    throw new UsageError(
      `--provider ${flags.provider}: job ${config.job_id} runs its trials on ${config.provider} (job.json "provider")`,
      { hint: `drop --provider, or give --provider ${config.provider}: one job's trials all run on one provider` },
    );
  const dotEnv = await loadEvalDotEnv({ cwd, tasks: config.tasks.map((t) => t.dir), shellEnv });
  const options = {
    ...EVAL_DEFAULTS,
    tasks: [],
    resume: jobDir,
    env: config.forwarded_env ?? [],
    concurrency: flags.concurrency ?? config.concurrency ?? EVAL_DEFAULTS.concurrency,
    maxRetries: flags.maxRetries ?? EVAL_DEFAULTS.maxRetries,
    noWait: flags.noWait,
    role: 'worker',
  };
  return { options, hostEnv: dotEnv.env };
}
