import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { SKILL_FILE } from '../skills/discover.js';
import { EVALS_DIR, findSkillDir } from '../skills/find.js';
import { displayPath } from '../util/problems.js';

/**
 * A skill-first run: `skill-eval eval` asked about a skill rather than about tasks — in a skill folder with no
 * task named, `eval SKILL_DIR`, `--skill SKILL_DIR` with no task, or tasks under one skill's evals/. Its
 * question is "does the skill help", so both arms run unless an arm flag says otherwise.
 */
export interface SkillFirstRun {
  /** Task specs: the skill folder itself when it holds an eval.yaml (converted with the skill), else its evals/. */
  tasks: string[];
  /** `--skill` values: the skill folder, for tasks under its evals/ (they carry no copy of the skill). */
  skill: string[];
  note: string;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function isSkillDir(dir: string): Promise<boolean> {
  return exists(join(dir, SKILL_FILE));
}

/** The evaluation tasks of one skill folder: its eval.yaml, else its evals/ folder; none is a UsageError. */
async function tasksOfSkill(dir: string, cwd: string): Promise<{ task: string; skill?: string | undefined }> {
  if ((await exists(join(dir, 'eval.yaml'))) || (await exists(join(dir, 'eval.yml')))) return { task: dir };
  if (await exists(join(dir, EVALS_DIR))) return { task: join(dir, EVALS_DIR), skill: dir };
  throw new UsageError(
    `${displayPath(dir, cwd)} is a skill folder without evaluation tasks: expected an ${EVALS_DIR}/ folder of tasks or an eval.yaml, found neither`,
    { hint: `write some with: skill-eval init ${displayPath(dir, cwd)}   (or name task directories to run)` },
  );
}

/** Skill folders named as task specs, or `--skill` folders when no task is named, or the folder cwd is in. */
async function askedSkills(tasks: readonly string[], skill: readonly string[], cwd: string): Promise<string[]> {
  if (tasks.length > 0) {
    const dirs = tasks.map((spec) => resolve(cwd, spec));
    const all = await Promise.all(dirs.map(isSkillDir));
    return all.every(Boolean) ? dirs : [];
  }
  const flagged: string[] = [];
  for (const value of skill) if (await isSkillDir(resolve(cwd, value))) flagged.push(resolve(cwd, value));
  if (flagged.length > 0) return flagged;
  const here = await findSkillDir(cwd);
  return here ? [here] : [];
}

/**
 * The skill-first reading of `eval`'s task specs and `--skill` values, or undefined when the run is about tasks
 * (today's behaviour). Tasks named under a skill's evals/ (`eval evals`, `eval my-skill/evals/a`) get the skill too.
 */
export async function skillFirstRun(
  options: { tasks: readonly string[]; skill?: readonly string[] | undefined },
  cwd: string,
): Promise<SkillFirstRun | undefined> {
  const flagSkills = options.skill ?? [];
  const skills = await askedSkills(options.tasks, flagSkills, cwd);
  if (skills.length > 0) {
    const found = await Promise.all(skills.map((dir) => tasksOfSkill(dir, cwd)));
    const added = found.flatMap((f) => (f.skill ? [f.skill] : []));
    return {
      tasks: found.map((f) => f.task),
      skill: [...flagSkills.filter((value) => !skills.includes(resolve(cwd, value))), ...added],
      note: `skill-first run: ${skills.map((dir) => displayPath(dir, cwd)).join(', ')} — both arms (with and without the skill) unless --no-skills`,
    };
  }
  // Tasks under one skill's evals/ (`eval evals`, `eval ../my-skill/evals/task-a`): that skill is attached.
  if (options.tasks.length === 0) return undefined;
  const homes = await Promise.all(options.tasks.map((spec) => findSkillDir(resolve(cwd, spec))));
  const home = homes[0];
  if (home === undefined || homes.some((other) => other !== home)) return undefined;
  return {
    tasks: [...options.tasks],
    skill: flagSkills.includes(home) ? [...flagSkills] : [...flagSkills, home],
    note: `skill-first run: ${displayPath(home, cwd)} on its ${EVALS_DIR}/ — both arms unless --no-skills`,
  };
}
