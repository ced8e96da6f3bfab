import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { getAgent } from '../agents/registry.js';
import type { Arm } from '../agents/types.js';
import type { EnvironmentProvider } from '../environments/types.js';
import { UsageError } from '../errors.js';
import { readJobConfig } from './job-config.js';
import type { JobAgent } from './run-job.js';

/** What an eval job is asked to do: the flags of `skill-eval eval` that decide the trials and where they go. */
export interface EvalJobOptions {
  /** Task directories, names under `tasksDir`, folders of tasks, globs or suite files; none: superlint_demo. */
  tasks: string[];
  /** Agent names, comma-separated for several. */
  agent: string;
  model?: string | undefined;
  /** A provider name (`local`, `docker`) or a provider object; job.json records its name. */
  provider: string | EnvironmentProvider;
  trials: number;
  /** false: only the baseline arm. */
  skills: boolean;
  /** Both arms (with and without skills). */
  compare: boolean;
  resultsDir: string;
  tasksDir?: string | undefined;
  /** `KEY` or `KEY=VALUE` entries forwarded to the agent (treated as secrets). */
  env: string[];
  concurrency: number;
  agentTimeout?: number | undefined;
  verifierTimeout?: number | undefined;
  passThreshold: number;
  forceBuild: boolean;
  /** Docker network mode for every trial, replacing task.toml's policy. */
  network?: string | undefined;
  jobName?: string | undefined;
  /** Resume this job (a name under <results-dir>/jobs or a path): its plan replaces tasks/agents/arms/trials. */
  resume?: string | undefined;
  /** Start a new job even when an unfinished one with the same plan exists. */
  newJob: boolean;
  maxRetries: number;
  /** Isolation and tamper audits in every trial (`--audit`). */
  audit?: boolean | undefined;
  /** The judge model of every llm_rubric grader that names none (`--grader-model`; docs/graders.md). */
  graderModel?: string | undefined;
}

/** `--resume JOB`: the saved plan replaces what decides the trials; everything else (concurrency, output) stays as given. */
/** Each option's default, as `skill-eval eval`'s flags and the TypeScript API (runEvaluation) both apply it. */
export const EVAL_DEFAULTS = {
  tasks: [],
  agent: 'gemini',
  provider: 'docker',
  trials: 5,
  skills: true,
  compare: false,
  resultsDir: 'results',
  env: [],
  concurrency: Math.max(1, Math.min(4, availableParallelism())),
  passThreshold: 1,
  forceBuild: false,
  newJob: false,
  maxRetries: 2,
  audit: false,
} as const satisfies EvalJobOptions;

export async function optionsFromJob<O extends EvalJobOptions>(options: O, cwd: string): Promise<O> {
  const name = options.resume!;
  const jobDir = name.includes('/') ? resolve(cwd, name) : join(resolve(cwd, options.resultsDir), 'jobs', name);
  const config = await readJobConfig(jobDir).catch((error: unknown) => {
    throw new UsageError(`--resume ${name}: ${jobDir}/job.json is not a valid job file`, { cause: error });
  });
  if (!config) throw new UsageError(`--resume ${name}: no job at ${jobDir} (expected ${join(jobDir, 'job.json')})`);
  return {
    ...options,
    tasks: config.tasks.map((t) => t.dir),
    agent: config.agents.map((a) => a.name).join(','),
    model: config.agents[0]?.model,
    compare: config.arms.length === 2,
    skills: config.arms.includes('with-skills'),
    trials: config.trials,
    // A provider object stays: it is what the caller has; a name comes from the job.
    provider: typeof options.provider === 'string' ? config.provider : options.provider,
    passThreshold: config.pass_threshold,
    graderModel: config.grader_model ?? options.graderModel,
    jobName: config.job_id,
    resultsDir: name.includes('/') ? resolve(jobDir, '..', '..') : options.resultsDir,
  };
}

export function armsFor(options: Pick<EvalJobOptions, 'compare' | 'skills'>): Arm[] {
  if (options.compare && !options.skills)
    throw new UsageError('--compare and --no-skills contradict each other', {
      hint: '--compare runs both arms; --no-skills runs only the baseline',
    });
  return options.compare ? ['with-skills', 'no-skills'] : options.skills ? ['with-skills'] : ['no-skills'];
}

export function agentsFor(options: Pick<EvalJobOptions, 'agent' | 'model'>): JobAgent[] {
  return options.agent
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => ({ agent: getAgent(name), model: options.model }));
}
