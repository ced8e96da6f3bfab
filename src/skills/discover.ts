import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { errorMessage } from '../errors.js';
import { hashEntries, listFiles } from '../util/file-tree.js';
import { displayPath } from '../util/problems.js';
import { parseSkillMd } from './parse.js';
import type { Skill } from './types.js';

/** Where skills live in a task directory, per layout. */
export const SKILL_LAYOUTS: ReadonlyArray<{ layout: Skill['layout']; relativeDir: string }> = [
  { layout: 'skill-eval', relativeDir: 'skills' },
  { layout: 'skillsbench', relativeDir: 'environment/skills' },
];

export const SKILL_FILE = 'SKILL.md';

export interface DiscoverOptions {
  /** Base for the file names in problems (defaults to process.cwd()). */
  cwd?: string | undefined;
}

export interface DiscoveredSkills {
  /** Valid skills (no errors), in name order. */
  skills: Skill[];
  /** Every error and warning, skills' own warnings included. */
  problems: Problem[];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Loads one skill folder (which holds SKILL.md). Returns the skill only when it has no errors. */
export async function loadSkill(
  skillDir: string,
  layout: Skill['layout'],
  options: DiscoverOptions & { source?: Skill['source'] | undefined } = {},
): Promise<{ skill?: Skill | undefined; problems: Problem[] }> {
  const dir = resolve(skillDir);
  const skillFile = join(dir, SKILL_FILE);
  const file = displayPath(skillFile, options.cwd);
  let text: string;
  try {
    text = await readFile(skillFile, 'utf8');
  } catch (error) {
    return { problems: [{ file, message: `cannot read: ${errorMessage(error)}`, severity: 'error' }] };
  }
  const parsed = parseSkillMd(text, { file, folderName: basename(dir) });
  if (parsed.problems.some((p) => p.severity === 'error')) return { problems: parsed.problems };

  const files = await listFiles(dir);
  const skill: Skill = {
    name: parsed.name,
    description: parsed.description,
    dir,
    layout,
    source: options.source ?? { kind: 'path', path: dir },
    fileCount: files.length,
    bytes: files.reduce((sum, entry) => sum + entry.size, 0),
    // The execute bit counts: a skill's script that loses it no longer runs.
    sha256: await hashEntries(files, { includeMode: true }),
    warnings: parsed.problems,
  };
  if (parsed.license !== undefined) skill.license = parsed.license;
  if (parsed.compatibility !== undefined) skill.compatibility = parsed.compatibility;
  if (parsed.allowedTools !== undefined) skill.allowedTools = parsed.allowedTools;
  if (parsed.metadata !== undefined) skill.metadata = parsed.metadata;
  return { skill, problems: parsed.problems };
}

/** Finds `<task>/skills/<name>/SKILL.md` and `<task>/environment/skills/<name>/SKILL.md`. */
export async function discoverSkills(taskDir: string, options: DiscoverOptions = {}): Promise<DiscoveredSkills> {
  const root = resolve(taskDir);
  const problems: Problem[] = [];
  const found: Skill[] = [];

  for (const { layout, relativeDir } of SKILL_LAYOUTS) {
    const layoutDir = join(root, relativeDir);
    if (!(await isDirectory(layoutDir))) continue;
    const entries = (await readdir(layoutDir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const entryPath = join(layoutDir, entry.name);
      if (entry.name === SKILL_FILE && entry.isFile()) {
        problems.push({
          file: displayPath(entryPath, options.cwd),
          message: `${SKILL_FILE} must sit in a folder named after the skill; ignored`,
          expected: `${relativeDir}/<skill-name>/${SKILL_FILE}`,
          found: `${relativeDir}/${SKILL_FILE}`,
          severity: 'warning',
        });
        continue;
      }
      if (!(await isDirectory(entryPath))) continue;
      if (!(await isFile(join(entryPath, SKILL_FILE)))) {
        problems.push({
          file: displayPath(entryPath, options.cwd),
          message: `no ${SKILL_FILE}; this folder is not a skill and is ignored`,
          expected: `${relativeDir}/${entry.name}/${SKILL_FILE}`,
          severity: 'warning',
        });
        continue;
      }
      const source = { kind: 'task' as const, path: `${relativeDir}/${entry.name}` };
      const loaded = await loadSkill(entryPath, layout, { ...options, source });
      problems.push(...loaded.problems);
      if (loaded.skill) found.push(loaded.skill);
    }
  }

  // Agents index skills by name: two with one name would shadow each other.
  const byName = new Map<string, Skill>();
  const skills: Skill[] = [];
  for (const skill of found) {
    const first = byName.get(skill.name);
    if (first) {
      problems.push({
        file: displayPath(join(skill.dir, SKILL_FILE), options.cwd),
        key: 'name',
        message: `duplicate skill name; also used by ${displayPath(join(first.dir, SKILL_FILE), options.cwd)}`,
        expected: 'a name no other skill of the task uses',
        found: JSON.stringify(skill.name),
        severity: 'error',
      });
      continue;
    }
    byName.set(skill.name, skill);
    skills.push(skill);
  }
  skills.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { skills, problems };
}
