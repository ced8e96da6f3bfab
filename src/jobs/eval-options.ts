import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { configurableAgents, getAgent, isConfigurableAgent } from '../agents/registry.js';
import type { Arm } from '../agents/types.js';
import { AA_SUFFIX, armSpec, parseArm, parseArms, replicaOf } from '../arms/spec.js';
import type { EnvironmentProvider } from '../environments/types.js';
import { UsageError } from '../errors.js';
import { REDACTED } from '../util/secrets.js';
import { type JobConfig, readJobConfig } from './job-config.js';
import type { JobAgent } from './run-job.js';
import type { SequentialOptions } from './sequential.js';

/** What an eval job is asked to do: the flags of `skill-eval eval` that decide the trials and where they go. */
export interface EvalJobOptions {
  /** Task directories, names under `tasksDir`, folders of tasks, globs or suite files; none: superlint_demo. */
  tasks: string[];
  /** Agent names, comma-separated for several. */
  agent: string;
  /** One model for every agent (`claude-sonnet-4-5`), or one per agent (`claude=claude-sonnet-4-5,gemini=gemini-2.5-pro`). */
  /** `--agent=command`: the command line that is the agent (bash, in the environment's workdir). */
  command?: string | undefined;
  /** `--agent=acp`: the command line that starts an ACP agent on stdio (in the environment). */
  acpCommand?: string | undefined;
  model?: string | undefined;
  /** A provider name (`local`, `docker`) or a provider object; job.json records its name. */
  provider: string | EnvironmentProvider;
  /** Trials per task and arm; with `sequential`, the most (its maxTrials). */
  trials: number;
  /** `--trials auto`: trials run in rounds until the stopping rule says the answer is known (docs/analyze.md). */
  sequential?: SequentialOptions | undefined;
  /** false: only the baseline arm. */
  skills: boolean;
  /** Both arms (with and without skills). */
  compare: boolean;
  /**
   * `--arms`: the arms by name, in place of --compare / --no-skills (src/arms/spec.ts: no-skills, with-skills,
   * skill-as-prompt, self-generated, skill-variant:NAME=DIR, with-distractors:N).
   */
  arms?: string[] | undefined;
  /** `--aa [ARM]`: ARM (default no-skills) runs twice, as ARM and its replica ARM~aa — their Δ is noise alone. */
  aa?: string | undefined;
  /** `--distractor-pool`: the skills with-distractors:N draws from (anything `--skill` takes). */
  distractorPool?: string | undefined;
  /**
   * `--skill` values: skills added to every task's with-skills arm (never the no-skills arm) — a folder, a git URL
   * (`URL[#REF][:SUBDIR]`) or `ORG/NAME[@REF]` (GitHub); one named like a task's own skill replaces it (docs/skills.md).
   */
  skill?: string[] | undefined;
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
  /** Docker engine runtime for every trial container (`runsc`: gVisor). */
  runtime?: string | undefined;
  jobName?: string | undefined;
  /** Resume this job (a name under <results-dir>/jobs or a path): its plan replaces tasks/agents/arms/trials. */
  resume?: string | undefined;
  /** Start a new job even when an unfinished one with the same plan exists. */
  newJob: boolean;
  /**
   * Copy the matching no-skills trials of an earlier job instead of running them (`--baseline-from`): a job name
   * under <results-dir>/jobs, a path, or `auto` (the newest job with matching no-skills trials).
   */
  baselineFrom?: string | undefined;
  maxRetries: number;
  /** Isolation and tamper audits in every trial; false: `--no-audit`. */
  audit?: boolean | undefined;
  /** Run the oracle/nop check on every task first and leave out the tasks that fail it (`--validate`). */
  validate?: boolean | undefined;
  /** Cap on each trial's workspace archive (`workspace.tar.gz`), in MB; 0: no archive (`regrade` then has nothing). */
  workspaceArchiveMaxMb?: number | undefined;
  /** The judge model of every llm_rubric grader that names none (`--grader-model`; docs/graders.md). */
  graderModel?: string | undefined;
  /**
   * A model gateway per trial for agents that call a model API (docs/gateway.md): the key stays on the host, the
   * agent gets a token. false: `--no-gateway`, the agent gets the forwarded keys in its sandbox (the old way).
   */
  gateway?: boolean | undefined;
  /** Keep every model call in the trial's model_calls.jsonl (`--record`, the default; `--no-record`). */
  record?: boolean | undefined;
  /** `--max-tokens-per-trial`: input + output tokens; the gateway stops the agent there (budget_exceeded). */
  maxTokensPerTrial?: number | undefined;
  /** `--max-cost-per-trial`, USD at the gateway's price table. */
  maxCostPerTrial?: number | undefined;
  /** `--max-cost`, USD for the whole job: no trial starts once it is spent; resume with a higher one. */
  maxCost?: number | undefined;
  /**
   * `--replay JOB`: the same trials as JOB (its tasks, agents, models, arms, trials), a new job, every model call
   * answered from the matching trial's model_calls.jsonl; upstream is never contacted (no key needed).
   */
  replay?: string | undefined;
  /** `--prices FILE`: model prices over the built-in table (USD per 1M tokens; docs/gateway.md). */
  prices?: string | undefined;
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
  skill: [],
  resultsDir: 'results',
  env: [],
  concurrency: Math.max(1, Math.min(4, availableParallelism())),
  passThreshold: 1,
  forceBuild: false,
  newJob: false,
  maxRetries: 2,
  audit: true,
  workspaceArchiveMaxMb: 50,
  gateway: true,
  record: true,
} as const satisfies EvalJobOptions;

/** A job named on the command line (a name under <results-dir>/jobs, or a path) and its job.json. */
export async function namedJob(
  name: string,
  flag: string,
  cwd: string,
  resultsDir: string,
): Promise<{ jobDir: string; config: JobConfig }> {
  const jobDir = name.includes('/') ? resolve(cwd, name) : join(resolve(cwd, resultsDir), 'jobs', name);
  const config = await readJobConfig(jobDir).catch((error: unknown) => {
    throw new UsageError(`${flag} ${name}: ${jobDir}/job.json is not a valid job file`, { cause: error });
  });
  if (!config) throw new UsageError(`${flag} ${name}: no job at ${jobDir} (expected ${join(jobDir, 'job.json')})`);
  return { jobDir, config };
}

export async function optionsFromJob<O extends EvalJobOptions>(options: O, cwd: string): Promise<O> {
  const name = options.resume!;
  const { jobDir, config } = await namedJob(name, '--resume', cwd, options.resultsDir);
  const gateway = config.gateway;
  return {
    ...options,
    tasks: config.tasks.map((t) => t.dir),
    agent: config.agents.map((a) => a.name).join(','),
    ...savedCommands(options, config.agents, name),
    model: modelFlag(config.agents),
    // The saved arms decide (replicas included): --compare, --no-skills and --aa have nothing left to choose.
    arms: config.arms.filter((arm) => !armSpec(arm)?.replica),
    compare: false,
    skills: true,
    aa: config.arms
      .map((arm) => armSpec(arm))
      .find((spec) => spec?.replica)
      ?.name.slice(0, -AA_SUFFIX.length),
    distractorPool: config.distractor_pool,
    // At the commits its skills.lock.json records (planEval reads it).
    skill: config.skill_specs ?? [],
    trials: config.trials,
    sequential: config.sequential
      ? { alpha: config.sequential.alpha, maxTrials: config.sequential.max_trials, ciWidth: config.sequential.ci_width }
      : undefined,
    // A provider object stays: it is what the caller has; a name comes from the job.
    provider: typeof options.provider === 'string' ? config.provider : options.provider,
    passThreshold: config.pass_threshold,
    graderModel: config.grader_model ?? options.graderModel,
    jobName: config.job_id,
    // The same source as the first run (an `auto` one resolved then), or none.
    baselineFrom: config.baseline_from?.dir,
    resultsDir: name.includes('/') ? resolve(jobDir, '..', '..') : options.resultsDir,
    // The gateway as the job ran it; a budget given again replaces the saved one (resume past a --max-cost stop).
    gateway: gateway?.enabled ?? true,
    record: gateway?.record ?? true,
    maxTokensPerTrial: options.maxTokensPerTrial ?? gateway?.max_tokens_per_trial,
    maxCostPerTrial: options.maxCostPerTrial ?? gateway?.max_cost_per_trial,
    maxCost: options.maxCost ?? gateway?.max_cost,
    replay: gateway?.replay?.dir,
    prices: options.prices ?? gateway?.prices,
  };
}

/**
 * `--replay JOB`: JOB's trials (tasks, agents and models, arms, trials, pass threshold) in a new job, on the
 * provider given now; the rest of the flags as given.
 */
export async function optionsFromReplay<O extends EvalJobOptions>(options: O, cwd: string): Promise<O> {
  const { jobDir, config } = await namedJob(options.replay!, '--replay', cwd, options.resultsDir);
  return {
    ...options,
    tasks: config.tasks.map((t) => t.dir),
    agent: config.agents.map((a) => a.name).join(','),
    ...savedCommands(options, config.agents, options.replay!),
    model: modelFlag(config.agents),
    compare: config.arms.length === 2,
    skills: config.arms.includes('with-skills'),
    skill: config.skill_specs ?? [],
    trials: config.trials,
    sequential: undefined,
    passThreshold: config.pass_threshold,
    graderModel: config.grader_model ?? options.graderModel,
    replay: jobDir,
    gateway: true,
  };
}

/**
 * A resumed job's command lines (`--command`, `--acp-command`) come from job.json. One recorded with a secret in
 * it was redacted there: it must be given again, and must redact to the recorded one (the plans are compared).
 */
function savedCommands(
  options: EvalJobOptions,
  agents: JobConfig['agents'],
  job: string,
): Pick<EvalJobOptions, 'command' | 'acpCommand'> {
  const saved: Pick<EvalJobOptions, 'command' | 'acpCommand'> = { command: undefined, acpCommand: undefined };
  for (const agent of agents) {
    if (!isConfigurableAgent(agent.name) || agent.command === undefined) continue;
    const { option, flag } = configurableAgents[agent.name];
    if (!agent.command.includes(REDACTED)) saved[option] = agent.command;
    else if (options[option] !== undefined) saved[option] = options[option];
    else
      throw new UsageError(`--resume ${job}: the job's ${flag} held a secret and was recorded redacted`, {
        hint: `pass the same ${flag} "…" again with --resume`,
      });
  }
  return saved;
}

export function armsFor(options: Pick<EvalJobOptions, 'compare' | 'skills' | 'skill' | 'arms' | 'aa'>): Arm[] {
  const arms = options.arms === undefined ? basicArms(options) : chosenArms(options);
  if (options.aa === undefined) return arms;
  const aa = parseArm(options.aa);
  if (aa.replica) throw new UsageError(`--aa ${aa.name}: expected an arm to run twice, found a replica's name`);
  const given = options.arms !== undefined || options.compare;
  if (given && !arms.includes(aa.name))
    throw new UsageError(`--aa ${aa.name}: the job does not run ${aa.name} (its arms: ${arms.join(', ')})`, {
      hint: `add ${aa.name} to --arms, or give --aa without --arms / --compare to run only ${aa.name} twice`,
    });
  return given ? [...arms, replicaOf(aa.name)] : [aa.name, replicaOf(aa.name)];
}

function chosenArms(options: Pick<EvalJobOptions, 'compare' | 'skills' | 'arms'>): Arm[] {
  if (options.compare || !options.skills)
    throw new UsageError(`--arms and ${options.compare ? '--compare' : '--no-skills'} both choose the arms`, {
      hint: '--arms names every arm to run, e.g. --arms no-skills,with-skills',
    });
  const specs = parseArms(options.arms!.join(','));
  const replica = specs.find((spec) => spec.replica);
  if (replica)
    throw new UsageError(`--arms: ${replica.name} is a replica's name`, { hint: 'run an arm twice with --aa ARM' });
  return specs.map((spec) => spec.name);
}

function basicArms(options: Pick<EvalJobOptions, 'compare' | 'skills' | 'skill'>): Arm[] {
  if (options.compare && !options.skills)
    throw new UsageError('--compare and --no-skills contradict each other', {
      hint: '--compare runs both arms; --no-skills runs only the baseline',
    });
  if (!options.skills && (options.skill?.length ?? 0) > 0)
    throw new UsageError(`--skill ${options.skill![0]} and --no-skills contradict each other`, {
      hint: '--skill adds skills to the with-skills arm; --no-skills runs only the baseline (use --compare for both)',
    });
  return options.compare ? ['with-skills', 'no-skills'] : options.skills ? ['with-skills'] : ['no-skills'];
}

/** The --model value that gives each agent the model a saved job recorded for it. */
function modelFlag(agents: ReadonlyArray<{ name: string; model?: string | undefined }>): string | undefined {
  const models = new Set(agents.map((a) => a.model));
  if (models.size <= 1) return agents[0]?.model;
  return agents.flatMap((a) => (a.model ? [`${a.name}=${a.model}`] : [])).join(',');
}

/**
 * --model's two forms: one model for every agent, or `agent=model` pairs (agents left out use their default).
 * A pair naming an agent that is not run is a UsageError: it would silently pin nothing.
 */
export function modelsFor(model: string | undefined, agentNames: readonly string[]): Map<string, string | undefined> {
  const models = new Map<string, string | undefined>(agentNames.map((name) => [name, undefined]));
  if (model === undefined || model.trim() === '') return models;
  if (!model.includes('=')) {
    for (const name of agentNames) models.set(name, model.trim());
    return models;
  }
  for (const entry of model
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    const id = entry.slice(eq + 1).trim();
    if (eq <= 0 || id === '')
      throw new UsageError(`--model: expected AGENT=MODEL pairs separated by commas, found "${entry}"`, {
        hint: 'e.g. --model claude=claude-sonnet-4-5,gemini=gemini-2.5-pro, or one model for every agent: --model ID',
      });
    if (!models.has(name))
      throw new UsageError(`--model: ${name}=${id} names an agent that is not run (--agent: ${agentNames.join(',')})`, {
        hint: `add ${name} to --agent, or drop its model`,
      });
    models.set(name, id);
  }
  return models;
}

export function agentsFor(options: Pick<EvalJobOptions, 'agent' | 'model' | 'command' | 'acpCommand'>): JobAgent[] {
  const names = options.agent
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const [name, { flag, option }] of Object.entries(configurableAgents)) {
    const command = options[option];
    if (command !== undefined && !names.includes(name))
      throw new UsageError(`${flag} is only for --agent=${name}, but --agent is "${options.agent}"`, {
        hint: `run it with --agent=${name} ${flag} "…", or drop ${flag}`,
      });
    if (command !== undefined && command.trim() === '')
      throw new UsageError(`${flag}: expected a command line, found an empty string`);
  }
  const models = modelsFor(options.model, names);
  return names.map((name) => {
    if (!isConfigurableAgent(name)) {
      const agent = getAgent(name);
      return { agent, model: models.get(name) ?? agent.defaultModel };
    }
    const command = options[configurableAgents[name].option];
    return { agent: getAgent(name, command === undefined ? undefined : { command }), model: models.get(name) };
  });
}
