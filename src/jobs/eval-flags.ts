import { dirname, resolve } from 'node:path';
import { detectAgent } from '../agents/detect.js';
import { UsageError } from '../errors.js';
import { evalYamlJobDefaults } from '../evalyaml/defaults.js';
import { findSkillDir } from '../skills/find.js';
import { expandTaskSpecs } from '../task/resolve.js';
import { type DotEnvFile, mergeDotEnv, readDotEnv } from '../util/dotenv.js';
import { displayPath } from '../util/problems.js';
import { EVAL_DEFAULTS, type EvalJobOptions } from './eval-options.js';
import { skillFirstRun } from './skill-first.js';

/** `--smoke`, `--reliable`, `--regression`: how many trials per task and arm each stands for. */
export const TRIAL_PRESETS = { smoke: 5, reliable: 15, regression: 30 } as const;
export type TrialPreset = keyof typeof TRIAL_PRESETS;

/**
 * The trials a job runs: a preset's count, else --trials. Two presets, or a preset with an explicit --trials,
 * are a UsageError (`trialsGiven`: --trials was on the command line, not its default).
 */
export function resolveTrials(
  flags: Partial<Record<TrialPreset, boolean | undefined>>,
  trials: number,
  trialsGiven: boolean,
): number {
  const presets = (Object.keys(TRIAL_PRESETS) as TrialPreset[]).filter((name) => flags[name] === true);
  if (presets.length > 1)
    throw new UsageError(`${presets.map((p) => `--${p}`).join(' and ')} contradict each other`, {
      hint: `pick one: ${Object.entries(TRIAL_PRESETS)
        .map(([name, n]) => `--${name} (${n} trials)`)
        .join(', ')}`,
    });
  const preset = presets[0];
  if (preset === undefined) return trials;
  if (trialsGiven)
    throw new UsageError(`--${preset} sets --trials=${TRIAL_PRESETS[preset]}; it cannot be combined with --trials`, {
      hint: `drop one of them: --${preset} or --trials=${trials}`,
    });
  return TRIAL_PRESETS[preset];
}

/**
 * The agent(s) to run: --agent when given, else the one whose API key is set (ANTHROPIC_API_KEY → claude, …), else
 * the default (gemini: its missing key is then the error, as before auto-detection).
 */
export function resolveAgent(agent: string | undefined, agentGiven: boolean, env: NodeJS.ProcessEnv): string {
  if (agentGiven && agent !== undefined) return agent;
  return detectAgent(env) ?? agent ?? EVAL_DEFAULTS.agent;
}

export interface EvalDotEnv {
  /** The shell's environment over the files' variables. */
  env: NodeJS.ProcessEnv;
  /** The names the files set (forwarded to the agent, their values treated as secrets, like --env KEY). */
  names: string[];
  /** The files read, from the least to the most specific. */
  files: string[];
}

/**
 * The `.env` files of an eval: the working directory's, the skill folder's (findSkillDir), then each task
 * directory's — the more specific winning — and the shell's environment over all of them. Two task directories
 * giving one variable different values is a UsageError (a job has one environment).
 */
export async function loadEvalDotEnv(options: {
  cwd: string;
  tasks: readonly string[];
  tasksDir?: string | undefined;
  shellEnv: NodeJS.ProcessEnv;
}): Promise<EvalDotEnv> {
  const { cwd } = options;
  const dirs = [resolve(cwd)];
  const skillDir = await findSkillDir(cwd);
  if (skillDir !== undefined) dirs.push(skillDir);
  // Only task specs that resolve: a bad one is reported by planning, with all the other task problems. An
  // eval.yaml's folder is a skill folder (skillgrade reads its .env); its tasks are converted later, by planning.
  const evalDirs: string[] = [];
  const evalYaml = async (file: string): Promise<string[]> => {
    evalDirs.push(dirname(file));
    return [];
  };
  const taskDirs =
    options.tasks.length === 0
      ? []
      : await expandTaskSpecs(options.tasks, { cwd, tasksDir: options.tasksDir, evalYaml }).catch(() => [] as string[]);
  const seen = new Set<string>();
  const files: DotEnvFile[] = [];
  for (const dir of [...dirs, ...evalDirs, ...taskDirs]) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const file = await readDotEnv(dir, cwd);
    if (file) files.push(file);
  }
  checkTaskConflicts(
    files.filter((f) => taskDirs.some((dir) => f.path === resolve(dir, '.env'))),
    cwd,
  );
  const merged = mergeDotEnv(files, options.shellEnv);
  return { env: merged.env, names: merged.fromFiles, files: files.map((f) => f.path) };
}

function checkTaskConflicts(files: readonly DotEnvFile[], cwd: string): void {
  const first = new Map<string, { value: string; path: string }>();
  for (const file of files) {
    for (const [name, value] of Object.entries(file.vars)) {
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, { value, path: file.path });
      else if (earlier.value !== value)
        throw new UsageError(
          `${name} has different values in ${displayPath(earlier.path, cwd)} and ${displayPath(file.path, cwd)}: one job has one environment`,
          { hint: `set ${name} once (in the shell, or the .env of the working directory), or run the tasks apart` },
        );
    }
  }
}

export type PresetFlags = Partial<Record<TrialPreset, boolean | undefined>>;

/**
 * What the command line says beyond the job's options, applied: the trial preset, the `.env` files, the agent
 * from the API key when --agent is not given. `given(flag)`: the flag was typed (not its default). Returns the
 * options, the environment keys come from, and notes for the user (which agent was chosen, which files read).
 */
export async function applyEvalFlags<O extends EvalJobOptions>(
  raw: O & PresetFlags,
  cwd: string,
  context: { given: (flag: string) => boolean; shellEnv: NodeJS.ProcessEnv },
): Promise<{ options: O; hostEnv: NodeJS.ProcessEnv; notes: string[] }> {
  const { smoke, reliable, regression, ...flags } = raw;
  const notes: string[] = [];
  // Asked about a skill (its folder, or from inside it): its evaluation tasks, the skill attached, both arms.
  const skillFirst = raw.resume ? undefined : await skillFirstRun(raw, cwd);
  const options = skillFirst
    ? {
        ...flags,
        tasks: skillFirst.tasks,
        skill: skillFirst.skill,
        compare: flags.compare || flags.skills !== false,
      }
    : flags;
  if (skillFirst) notes.push(skillFirst.note);
  // An eval.yaml's `defaults` stand in for the flags not typed (a resumed job's saved plan decides instead).
  const yaml = raw.resume ? undefined : await evalYamlJobDefaults(options.tasks, cwd);
  const yamlTrials = context.given('trials') ? undefined : yaml?.trials;
  const trials = resolveTrials({ smoke, reliable, regression }, yamlTrials ?? raw.trials, context.given('trials'));
  const provider = !context.given('provider') && yaml?.provider !== undefined ? yaml.provider : options.provider;
  const graderModel = options.graderModel ?? yaml?.graderModel;
  const dotenv = await loadEvalDotEnv({
    cwd,
    tasks: options.tasks,
    tasksDir: raw.tasksDir,
    shellEnv: context.shellEnv,
  });
  for (const file of dotenv.files) notes.push(`read ${displayPath(file, cwd)}`);
  const agentGiven = context.given('agent');
  // As in skillgrade, the agent of the one API key set comes before eval.yaml's defaults.agent.
  const defaultAgent = agentGiven ? raw.agent : (yaml?.agent ?? raw.agent);
  // A resumed job's saved plan names its agents.
  const agent = raw.resume ? raw.agent : resolveAgent(defaultAgent, agentGiven, dotenv.env);
  if (!agentGiven && !raw.resume && detectAgent(dotenv.env) !== undefined)
    notes.push(`agent: ${agent}, from the one API key set (--agent chooses another)`);
  return {
    // `.env` names first: an explicit --env KEY=VALUE still wins.
    options: { ...(options as unknown as O), trials, agent, provider, graderModel, env: [...dotenv.names, ...raw.env] },
    hostEnv: dotenv.env,
    notes,
  };
}
