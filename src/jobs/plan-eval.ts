import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Arm } from '../agents/types.js';
import { type ResolvedArmResources, resolveArmResources } from '../arms/resources.js';
import type { ArmResources } from '../arms/setup.js';
import { parseArm } from '../arms/spec.js';
import { createProvider } from '../environments/registry.js';
import type { EnvironmentProvider } from '../environments/types.js';
import { UsageError } from '../errors.js';
import { usesGateway } from '../gateway/trial.js';
import { planJudges } from '../graders/plan.js';
import type { JudgeSettings } from '../graders/types.js';
import { timestampForFile } from '../results/eval-report.js';
import { type FlagSkills, resolveFlagSkills } from '../skills/sources.js';
import { skillSpecSecrets } from '../skills/spec.js';
import type { Task } from '../task/types.js';
import type { BaselineFingerprint } from '../trial/fingerprint.js';
import { redactCommandLine } from '../util/redact-command-line.js';
import { collectForwardedEnv, type ForwardedEnv, Redactor } from '../util/secrets.js';
import { type BaselineReuse, type JobBaselines, jobBaselines, planBaselineReuse } from './baseline-reuse.js';
import { type ChosenJob, chooseJob } from './choose-job.js';
import { ClaimBook } from './claims.js';
import { agentsFor, armsFor, type EvalJobOptions, optionsFromJob, optionsFromReplay } from './eval-options.js';
import { type BrokenTask, type EvalNotice, loadEvalTasks } from './eval-tasks.js';
import { type JobGateway, planJobGateway } from './gateway-plan.js';
import { type JobConfig, readJobConfig } from './job-config.js';
import { reclaimResumedJob } from './reclaim.js';
import { checkResultsDir } from './results-dir.js';
import type { JobAgent } from './run-job.js';
import { SEQUENTIAL_METHOD, SEQUENTIAL_ROUND } from './sequential.js';
import { readSkillsLock, type SkillsLock, skillsLock } from './skills-lock.js';

export interface PlanEvalContext {
  /** Recorded in job.json and the reports (the CLI's arguments). */
  commandLine?: readonly string[] | undefined;
  /** Where forwarded variables and agent keys come from; process.env by default. */
  hostEnv?: NodeJS.ProcessEnv | undefined;
  /** Where llm_rubric judges find their keys and base URLs (host side only); hostEnv by default. */
  judgeEnv?: NodeJS.ProcessEnv | undefined;
  /** Broken tasks, task warnings, which job is resumed. */
  onNotice?: ((notice: EvalNotice) => void) | undefined;
  /** Cancels planning's slow parts (fetching git skills). */
  signal?: AbortSignal | undefined;
}

/** A validated job, ready to run: nothing in it is left to check. */
export interface EvalPlan {
  /** The options as they apply (a resumed job's saved plan in place of the flags it replaces). */
  options: EvalJobOptions;
  cwd: string;
  /** job.json as it will be written. */
  config: JobConfig;
  jobDir: string;
  resultsDir: string;
  /** It continues an earlier run of the same plan. */
  resumed: boolean;
  tasks: Task[];
  brokenTasks: BrokenTask[];
  agents: JobAgent[];
  arms: Arm[];
  provider: EnvironmentProvider;
  env: Record<string, string>;
  redactor: Redactor;
  /** skills.lock.json as it will be written; undefined when the job has no `--skill`. */
  skillsLock?: SkillsLock | undefined;
  /** Where llm_rubric judges get their model and keys (host only). */
  judge: JudgeSettings;
  /** Each task × agent's no-skills fingerprint (by baselineKey()), recorded in the no-skills results. */
  baselines: ReadonlyMap<string, BaselineFingerprint>;
  /** `--baseline-from`: the earlier no-skills trials copied in instead of run. */
  baselineReuse?: BaselineReuse | undefined;
  /** What skill-variant and with-distractors arms draw on, resolved before any trial. */
  armResources: ArmResources;
  /** The trials' model gateways (false: `--no-gateway`). */
  gateway: JobGateway | false;
}

const KEY_HELP: Record<string, string> = {
  ANTHROPIC_API_KEY: 'https://console.anthropic.com/settings/keys',
  GEMINI_API_KEY: 'https://aistudio.google.com/apikey',
  OPENAI_API_KEY: 'https://platform.openai.com/api-keys',
};

/** Keys first: a missing key fails before any build or trial, naming the variable. A replay needs none. */
function forwardEnv(options: EvalJobOptions, agents: readonly JobAgent[], hostEnv: NodeJS.ProcessEnv): ForwardedEnv {
  const forwarded = collectForwardedEnv(hostEnv, options.env);
  if (options.replay !== undefined) return forwarded;
  for (const { agent } of agents) {
    const variable = agent.requiredEnv.find((name) => !forwarded.env[name]);
    if (variable === undefined) continue;
    throw new UsageError(`the ${agent.name} agent needs ${variable}, which is not set`, {
      hint: [
        `  export ${variable}=…${KEY_HELP[variable] ? `   (get one at ${KEY_HELP[variable]})` : ''}`,
        `or check the infrastructure without any key:  pnpm run eval ${options.tasks[0] ?? 'superlint_demo'} --agent=oracle --provider=local`,
      ].join('\n'),
    });
  }
  return forwarded;
}

/**
 * `--skill` values → skills, before any build or trial. A named job that exists (`--resume`, `--job-name`) keeps
 * its git skills at the commits its skills.lock.json recorded, so a moved branch cannot change a resumed job.
 */
async function resolveJobSkills(
  options: EvalJobOptions,
  cwd: string,
  jobsDir: string,
  context: PlanEvalContext,
): Promise<FlagSkills> {
  const values = options.skill ?? [];
  if (values.length === 0) return { skills: [], specs: [], notices: [] };
  const lock = options.jobName
    ? await readSkillsLock(join(jobsDir, options.jobName)).catch(() => undefined)
    : undefined;
  const pins = new Map<string, string>();
  for (const { spec, source } of lock?.skills ?? []) if (source.kind === 'git') pins.set(spec, source.commit);
  const resolved = await resolveFlagSkills(values, {
    cwd,
    env: context.hostEnv ?? process.env,
    signal: context.signal,
    pins,
  });
  for (const notice of resolved.notices) context.onNotice?.(notice);
  return resolved;
}

/**
 * `eval`'s planning: options → a validated plan. Keys, tasks (broken ones reported and left out), the provider's
 * own checks and preflight, then the job: a new one, or the earlier run of the same plan it continues. Writes
 * nothing; a resumed job's dead earlier runs have their leftovers (containers, processes) removed.
 */
export async function planEval(
  requested: EvalJobOptions,
  cwd: string,
  context: PlanEvalContext = {},
): Promise<EvalPlan> {
  const notify = context.onNotice ?? (() => {});
  const asked = await savedPlan(requested, cwd);
  // --trials auto: `trials` is the most per task and arm.
  const options = asked.sequential ? { ...asked, trials: asked.sequential.maxTrials } : asked;
  const arms = armsFor(options);
  checkSequential(options, arms);
  checkBaselineFrom(options, arms);
  const agents = agentsFor(options);
  const hostEnv = context.hostEnv ?? process.env;
  const forwarded = forwardEnv(options, agents, hostEnv);
  const gateway = await planJobGateway(options, { cwd, hostEnv, resumed: requested.resume !== undefined });
  const resultsDir = resolve(cwd, options.resultsDir);
  await checkResultsDir(resultsDir);
  const jobsDir = join(resultsDir, 'jobs');
  const flagSkills = await resolveJobSkills(options, cwd, jobsDir, context);
  const provider =
    typeof options.provider === 'string'
      ? await createProvider(options.provider, {
          forceBuild: options.forceBuild,
          network: options.network,
          runtime: options.runtime,
        })
      : options.provider;
  const { tasks, brokenTasks } = await loadEvalTasks(options.tasks, {
    cwd,
    tasksDir: options.tasksDir,
    resultsDir,
    provider,
    arms,
    addedSkills: flagSkills.skills.map((s) => s.skill),
    notify,
  });
  const armResources = await resolveArmResources(arms.map(parseArm), tasks, options.distractorPool, {
    cwd,
    env: hostEnv,
    signal: context.signal,
    notify,
  });
  // Judge keys, like agent keys, before any build or trial.
  const judges = planJudges(
    tasks,
    agents.map(({ agent, model }) => ({ name: agent.name, model })),
    options.graderModel,
    context.judgeEnv ?? hostEnv,
  );
  for (const message of judges.warnings) notify({ level: 'warning', message });
  // A token in a --skill URL is a secret like any key: out of the command line, results and logs.
  const redactor = new Redactor([...forwarded.secrets, ...judges.secrets, ...skillSpecSecrets(options.skill ?? [])]);
  // Before any build or trial: what this provider cannot run as planned (Docker: an API agent on an offline task).
  provider.checkJob?.({
    tasks,
    apiAgents: agents.filter(({ agent }) => usesGateway(agent, {})).map(({ agent }) => agent.name),
    gateway: gateway.gateway !== false,
  });
  await provider.preflight();

  const planned = plannedConfig(options, { context, redactor, tasks, agents, arms, provider, forwarded, gateway });
  recordArmResources(planned, armResources);
  if (flagSkills.specs.length > 0) {
    planned.skill_specs = flagSkills.specs;
    planned.skills = flagSkills.skills.map(({ skill, commit }) => ({ name: skill.name, sha256: skill.sha256, commit }));
  }
  const job = await chooseJob(planned, {
    jobsDir,
    named: Boolean(options.jobName || options.resume),
    newJob: options.newJob,
    notify,
  });
  // Not while other workers are on the job: what looks left over is theirs, running.
  if (job.resumed && new ClaimBook(job.jobDir).otherWorkers().length === 0)
    await reclaimResumedJob(provider, job.config.job_id, notify);
  const baseline = await planJobBaseline(options, job, {
    tasks,
    agents,
    arms,
    provider,
    redactor,
    cwd,
    jobsDir,
    notify,
  });
  if (baseline.reuse) job.config.baseline_from = baseline.reuse.source;
  return {
    options,
    cwd,
    config: job.config,
    jobDir: job.jobDir,
    resultsDir,
    resumed: job.resumed,
    tasks,
    brokenTasks,
    agents,
    arms,
    provider,
    env: forwarded.env,
    redactor,
    skillsLock:
      flagSkills.specs.length > 0
        ? skillsLock(job.config.job_id, job.config.created_at, flagSkills.specs, flagSkills.skills)
        : undefined,
    judge: judges.settings,
    baselines: baseline.baselines.fingerprints,
    baselineReuse: baseline.reuse,
    armResources: armResources.resources,
    gateway: gateway.gateway,
  };
}

/** job.json as planned (before choosing a job to resume): what was asked for, named and dated now. */
function plannedConfig(
  options: EvalJobOptions,
  parts: {
    context: PlanEvalContext;
    redactor: Redactor;
    tasks: readonly Task[];
    agents: readonly JobAgent[];
    arms: Arm[];
    provider: EnvironmentProvider;
    forwarded: ForwardedEnv;
    gateway: Awaited<ReturnType<typeof planJobGateway>>;
  },
): JobConfig {
  const { context, redactor, tasks, agents, arms, provider, forwarded, gateway } = parts;
  const createdAt = new Date();
  return {
    job_id: options.jobName ?? `${timestampForFile(createdAt)}-${randomBytes(2).toString('hex')}`,
    created_at: createdAt.toISOString(),
    command_line: redactCommandLine(context.commandLine ?? [], redactor),
    tasks: tasks.map((t) => ({ name: t.name, dir: t.dir, checksum: t.checksum })),
    agents: agents.map((a) => ({
      name: a.agent.name,
      model: a.model,
      ...(a.agent.command !== undefined ? { command: redactor.redact(a.agent.command) } : {}),
    })),
    arms,
    trials: options.trials,
    provider: provider.name,
    concurrency: options.concurrency,
    pass_threshold: options.passThreshold,
    forwarded_env: Object.keys(forwarded.env),
    grader_model: options.graderModel,
    gateway: gateway.config,
    ...(options.sequential
      ? {
          sequential: {
            method: SEQUENTIAL_METHOD,
            alpha: options.sequential.alpha,
            max_trials: options.sequential.maxTrials,
            ci_width: options.sequential.ciWidth,
            round: SEQUENTIAL_ROUND,
          },
        }
      : {}),
  };
}

function recordArmResources(planned: JobConfig, resolved: ResolvedArmResources): void {
  if (resolved.pool !== undefined) planned.distractor_pool = resolved.pool;
  if (resolved.record.length > 0) planned.arm_skills = resolved.record;
}

/** `--baseline-from` reuses no-skills trials: the job must run that arm. */
function checkBaselineFrom(options: EvalJobOptions, arms: readonly Arm[]): void {
  if (options.baselineFrom !== undefined && !arms.includes('no-skills'))
    throw new UsageError(
      `--baseline-from ${options.baselineFrom} reuses no-skills trials, but this job runs only the with-skills arm`,
      {
        hint: 'add --compare (both arms), --no-skills, or no-skills to --arms',
      },
    );
}

/** `--resume`: the saved plan; `--replay`: the replayed job's trials; else the options as given. */
async function savedPlan(requested: EvalJobOptions, cwd: string): Promise<EvalJobOptions> {
  if (requested.resume) return optionsFromJob(requested, cwd);
  if (requested.replay) return optionsFromReplay(requested, cwd);
  return requested;
}

/** `--trials auto` decides between two arms; with one, only an interval width can be its target. */
function checkSequential(options: EvalJobOptions, arms: readonly Arm[]): void {
  const rule = options.sequential;
  if (!rule) return;
  const other = arms.find((arm) => arm !== 'with-skills' && arm !== 'no-skills');
  if (other !== undefined)
    throw new UsageError(`--trials auto decides between with-skills and no-skills; this job also runs ${other}`, {
      hint: 'run the other arms with a fixed --trials N',
    });
  if (arms.length < 2 && rule.ciWidth === undefined)
    throw new UsageError('--trials auto stops when the arms are told apart, but this job runs only one arm', {
      hint: 'add --compare (both arms), or give --ci-width W to stop when the pass rate is known to within W',
    });
  if (!(rule.alpha > 0 && rule.alpha < 1))
    throw new UsageError(`--alpha: expected a number between 0 and 1, found ${rule.alpha}`);
  if (rule.ciWidth !== undefined && !(rule.ciWidth > 0 && rule.ciWidth <= 1))
    throw new UsageError(`--ci-width: expected a width between 0 and 1 (like 0.3), found ${rule.ciWidth}`);
}

/**
 * The no-skills fingerprints, and `--baseline-from`'s source checked against them. A job resumed without
 * --resume keeps the source its job.json recorded.
 */
async function planJobBaseline(
  options: EvalJobOptions,
  job: ChosenJob,
  context: {
    tasks: Task[];
    agents: JobAgent[];
    arms: Arm[];
    provider: EnvironmentProvider;
    redactor: Redactor;
    cwd: string;
    jobsDir: string;
    notify: (notice: EvalNotice) => void;
  },
): Promise<{ baselines: JobBaselines; reuse: BaselineReuse | undefined }> {
  const baselines = await jobBaselines({
    ...context,
    trials: options.trials,
    provider: context.provider.name,
    options,
  });
  const recorded = job.resumed ? (await readJobConfig(job.jobDir))?.baseline_from?.dir : undefined;
  const from = recorded ?? options.baselineFrom;
  if (from === undefined) return { baselines, reuse: undefined };
  const reuse = await planBaselineReuse({
    from,
    cwd: context.cwd,
    jobsDir: context.jobsDir,
    jobId: job.config.job_id,
    wanted: baselines.wanted,
    notify: context.notify,
  });
  return { baselines, reuse };
}
