import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { detectAgent } from '../agents/detect.js';
import { getAgent } from '../agents/registry.js';
import { TaskFormatError, UsageError } from '../errors.js';
import type { EvalNotice } from '../jobs/eval-tasks.js';
import { timestampForFile } from '../results/eval-report.js';
import { loadSkill, SKILL_FILE } from '../skills/discover.js';
import { EVALS_DIR } from '../skills/find.js';
import type { Skill } from '../skills/types.js';
import { mergeDotEnv, readDotEnv } from '../util/dotenv.js';
import { displayPath } from '../util/problems.js';
import { removeTree } from '../util/remove-tree.js';
import { collectForwardedEnv, Redactor } from '../util/secrets.js';
import { acceptDrafts, type DraftVerdict } from './accept.js';
import { draftTasks } from './draft.js';
import { evalsReadme, TEMPLATE_TASK_NAME, templateFiles } from './template.js';

export interface InitOptions {
  /** The skill folder (holds SKILL.md); the working directory by default. */
  dir?: string | undefined;
  /** Replace what init would write over (the template's folder, drafted tasks of the same name). */
  force: boolean;
  /** Draft with this agent; without it, the agent of the one API key set, else the commented template. */
  agent?: string | undefined;
  model?: string | undefined;
  /** Tasks the agent drafts. */
  count: number;
  /** Where the drafted tasks' oracle/nop check runs. */
  provider: string;
  /** Where the drafting session and the check go (`<resultsDir>/init/<id>/`). */
  resultsDir: string;
  concurrency: number;
  agentTimeoutSec?: number | undefined;
}

export interface InitContext {
  /** The shell's environment (keys); process.env by default. */
  hostEnv?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  onNotice?: ((notice: EvalNotice) => void) | undefined;
}

export type InitOutcome =
  | { mode: 'template'; skill: Skill; evalsDir: string; files: string[] }
  | {
      mode: 'draft';
      skill: Skill;
      evalsDir: string;
      agent: string;
      /** The drafting session's trial directory. */
      sessionDir: string;
      /** One per drafted folder; none when the agent drafted nothing (see the session). */
      verdicts: DraftVerdict[];
      /** The session's own failure (agent error, timeout), when it had one. */
      sessionError?: string | undefined;
    };

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The skill in `dir`, or a UsageError naming the folder and what was expected there. */
async function readSkill(dir: string, cwd: string): Promise<Skill> {
  if (!(await exists(join(dir, SKILL_FILE)))) {
    const shown = displayPath(dir, cwd);
    throw new UsageError(
      `no ${SKILL_FILE} in ${shown === '.' ? `the current directory (${dir})` : shown}: skill-eval init writes evaluation tasks for the skill in that folder`,
      {
        hint: `expected ${join(dir, SKILL_FILE)} (an Agent Skill: YAML frontmatter with name and description, then instructions); run init in a skill's folder, or: skill-eval init path/to/skill`,
      },
    );
  }
  const loaded = await loadSkill(dir, 'skill-eval', { cwd });
  if (!loaded.skill) throw new TaskFormatError(loaded.problems);
  return loaded.skill;
}

/** What is in `<skill>/evals` already, hidden folders (.rejected) aside. */
async function existingEntries(evalsDir: string): Promise<string[]> {
  const entries = await readdir(evalsDir).catch(() => [] as string[]);
  return entries.filter((name) => !name.startsWith('.')).sort();
}

/** Without --force, init writes only into an empty (or absent) evals folder. */
async function refuseOverwrite(evalsDir: string, cwd: string, force: boolean): Promise<void> {
  if (force) return;
  const present = await existingEntries(evalsDir);
  if (present.length === 0) return;
  throw new UsageError(
    `${displayPath(evalsDir, cwd)} already has ${present.join(', ')}: skill-eval init does not overwrite`,
    {
      hint: '--force replaces what init writes (the template, drafted tasks of the same name) and keeps the rest',
    },
  );
}

async function writeTemplate(skill: Skill, evalsDir: string): Promise<string[]> {
  const taskDir = join(evalsDir, TEMPLATE_TASK_NAME);
  await removeTree(taskDir);
  const written: string[] = [];
  for (const file of templateFiles(skill.name)) {
    const path = join(taskDir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    if (file.executable) await chmod(path, 0o755);
    written.push(path);
  }
  const readme = join(evalsDir, 'README.md');
  await writeFile(readme, evalsReadme(skill.name));
  return [readme, ...written];
}

/** Only a model-backed agent can draft, and only with its key: said before anything runs. */
function checkDraftingAgent(name: string, env: NodeJS.ProcessEnv): void {
  const agent = getAgent(name);
  if (agent.requiredEnv.length === 0)
    throw new UsageError(`--agent ${name} cannot draft tasks: it calls no model`, {
      hint: 'pick a model-backed agent (claude, gemini, codex, opencode), or drop --agent for the commented template',
    });
  const missing = agent.requiredEnv.find((variable) => (env[variable] ?? '') === '');
  if (missing !== undefined)
    throw new UsageError(`the ${name} agent needs ${missing}, which is not set`, {
      hint: `export ${missing}=… (or put it in the skill folder's .env), or drop --agent for the commented template`,
    });
}

/** The environment of init: the shell's over the `.env` of the working directory and of the skill folder. */
async function initEnv(cwd: string, skillDir: string, shellEnv: NodeJS.ProcessEnv) {
  const files = [];
  for (const dir of new Set([resolve(cwd), skillDir])) {
    const file = await readDotEnv(dir, cwd);
    if (file) files.push(file);
  }
  return mergeDotEnv(files, shellEnv);
}

/**
 * `skill-eval init`: evaluation tasks for the skill in `dir`, under `<skill>/evals/`. With an agent (--agent, or
 * the one API key set) the agent drafts `count` tasks and each is checked (accept.ts); else the commented
 * template (template.ts).
 */
export async function runInit(options: InitOptions, cwd: string, context: InitContext = {}): Promise<InitOutcome> {
  const skillDir = resolve(cwd, options.dir ?? '.');
  const skill = await readSkill(skillDir, cwd);
  const evalsDir = join(skillDir, EVALS_DIR);
  const { env, fromFiles } = await initEnv(cwd, skillDir, context.hostEnv ?? process.env);
  const agent = options.agent ?? detectAgent(env);
  await refuseOverwrite(evalsDir, cwd, options.force);
  if (agent === undefined) return { mode: 'template', skill, evalsDir, files: await writeTemplate(skill, evalsDir) };

  checkDraftingAgent(agent, env);
  const forwarded = collectForwardedEnv(env, fromFiles);
  const redactor = new Redactor(forwarded.secrets);
  const runDir = join(
    resolve(cwd, options.resultsDir),
    'init',
    `${timestampForFile(new Date())}-${randomBytes(2).toString('hex')}`,
  );
  await mkdir(runDir, { recursive: true });
  context.onNotice?.({ level: 'note', message: `${agent} is drafting ${options.count} task(s) for ${skill.name}…` });
  const session = await draftTasks({
    skill,
    agent,
    model: options.model,
    count: options.count,
    workDir: runDir,
    env: forwarded.env,
    redactor,
    signal: context.signal,
    agentTimeoutSec: options.agentTimeoutSec,
  });
  const sessionError = session.result.error ? `${session.result.status}: ${session.result.error.message}` : undefined;
  const verdicts = await acceptDrafts({
    draftsDir: session.draftsDir,
    evalsDir,
    skillName: skill.name,
    provider: options.provider,
    resultsDir: join(runDir, 'checks'),
    concurrency: options.concurrency,
    cwd,
    signal: context.signal,
    onNotice: context.onNotice,
  });
  return { mode: 'draft', skill, evalsDir, agent, sessionDir: session.trialDir, verdicts, sessionError };
}
