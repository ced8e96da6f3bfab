import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SKILL_FILE } from './discover.js';

async function hasSkillFile(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, SKILL_FILE))).isFile();
  } catch {
    return false;
  }
}

/** The folder under which `skill-eval init` writes a skill's evaluation tasks. */
export const EVALS_DIR = 'evals';

/**
 * The skill folder `cwd` belongs to: `cwd` itself when it holds SKILL.md, else the skill whose `evals/` folder
 * `cwd` is in (`<skill>/evals`, `<skill>/evals/<task>/…`); undefined otherwise.
 */
export async function findSkillDir(cwd: string): Promise<string | undefined> {
  let dir = resolve(cwd);
  if (await hasSkillFile(dir)) return dir;
  for (;;) {
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    if (basename(dir) === EVALS_DIR && (await hasSkillFile(parent))) return parent;
    dir = parent;
  }
}
