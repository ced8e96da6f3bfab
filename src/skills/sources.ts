import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { formatProblem, type Problem, UsageError } from '../errors.js';
import { cacheDir } from '../util/cache-dir.js';
import { loadSkill, SKILL_FILE } from './discover.js';
import { checkoutGitSkill } from './git.js';
import { formatSkillSpec, type GitSkillSpec, type LocalSkillSpec, parseSkillSpec, publicUrl } from './spec.js';
import { stageSkillFolder } from './stage.js';
import type { Skill } from './types.js';

/** `eval --skill VALUE…` resolved: the skills to add to every task's with-skills arm. */
export interface FlagSkills {
  /** One per name (the last `--skill` that has it wins), in name order. */
  skills: FlagSkill[];
  /** Canonical spec of each value, in the order given (what job.json records; `--resume` resolves them again). */
  specs: string[];
  notices: Array<{ level: 'warning' | 'note'; message: string }>;
}

export interface FlagSkill {
  /** Canonical spec of the `--skill` value it came from. */
  spec: string;
  /** The commit, for a git skill. */
  commit?: string | undefined;
  skill: Skill;
}

export interface ResolveSkillsOptions {
  /** Base of relative paths. */
  cwd: string;
  /** For the cache directory (SKILL_EVAL_CACHE_DIR, XDG_CACHE_HOME); process.env by default. */
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  /** Canonical spec → commit: a resumed job's git skills stay at the commits it locked. */
  pins?: ReadonlyMap<string, string> | undefined;
}

/** Where skill folders without their author's evals are copied (src/skills/stage.ts). */
function stagingRoot(options: ResolveSkillsOptions): string {
  return join(cacheDir(options.env), 'skills', 'staged');
}

async function kindOf(path: string): Promise<'dir' | 'file' | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? 'dir' : info?.isFile() ? 'file' : undefined;
}

function listing(names: string[]): string {
  if (names.length === 0) return 'an empty folder';
  return `${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length} entries)` : ''}`;
}

function invalidSkills(value: string, problems: Problem[]): UsageError {
  const errors = problems.filter((p) => p.severity === 'error').map(formatProblem);
  return new UsageError(`--skill ${value}: not a valid skill:\n  ${errors.join('\n  ')}`, {
    hint: 'SKILL.md needs frontmatter with a name (lowercase letters, digits, hyphens) and a description',
  });
}

/**
 * The skills of one folder: the folder itself when it holds SKILL.md, else each sub-folder that does. A folder
 * with neither, or an invalid SKILL.md, is one UsageError naming the flag value.
 */
async function skillsIn(
  value: string,
  dir: string,
  /** The folder as the user knows it (a git skill's is in the cache). */
  where: string,
  sourceOf: (skillDir: string) => Skill['source'],
  notices: FlagSkills['notices'],
  stagingRoot: string,
): Promise<Skill[]> {
  const candidates: string[] = [];
  if ((await kindOf(join(dir, SKILL_FILE))) === 'file') candidates.push(dir);
  else {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1)))
      if (entry.isDirectory() && (await kindOf(join(dir, entry.name, SKILL_FILE))) === 'file')
        candidates.push(join(dir, entry.name));
    if (candidates.length === 0)
      throw new UsageError(
        `--skill ${value}: no ${SKILL_FILE} in ${where} nor in its sub-folders; expected a skill folder (holding ${SKILL_FILE}) or a folder of skill folders; found ${listing(entries.map((e) => e.name))}`,
      );
  }
  const skills: Skill[] = [];
  const problems: Problem[] = [];
  for (const skillDir of candidates) {
    // The skill author's evals, eval.yaml and .env sit beside SKILL.md: the agent gets the skill without them.
    const staged = await stageSkillFolder(skillDir, stagingRoot);
    if (staged.leftOut.length > 0)
      notices.push({
        level: 'note',
        message: `--skill ${value}: ${staged.leftOut.join(', ')} left out of the skill (never shown to the agent)`,
      });
    const loaded = await loadSkill(staged.dir, 'flag', { source: sourceOf(skillDir) });
    problems.push(...loaded.problems);
    if (loaded.skill) skills.push(loaded.skill);
  }
  if (problems.some((p) => p.severity === 'error')) throw invalidSkills(value, problems);
  for (const warning of problems) notices.push({ level: 'warning', message: formatProblem(warning) });
  return skills;
}

async function localSkills(
  spec: LocalSkillSpec,
  options: ResolveSkillsOptions,
  notices: FlagSkills['notices'],
): Promise<FlagSkill[]> {
  const kind = await kindOf(spec.path);
  if (kind !== 'dir')
    throw new UsageError(
      `--skill ${spec.spec}: ${kind === 'file' ? 'a file, not a folder' : 'no such folder'} (${spec.path}); expected a skill folder (holding ${SKILL_FILE}), a folder of skill folders, a git URL or ORG/NAME`,
    );
  const canonical = formatSkillSpec(spec);
  const staging = stagingRoot(options);
  const skills = await skillsIn(spec.spec, spec.path, spec.path, (path) => ({ kind: 'path', path }), notices, staging);
  return skills.map((skill) => ({ spec: canonical, skill }));
}

async function gitSkills(
  spec: GitSkillSpec,
  options: ResolveSkillsOptions,
  notices: FlagSkills['notices'],
): Promise<FlagSkill[]> {
  const canonical = formatSkillSpec(spec);
  const pinned = options.pins?.get(canonical);
  const checkout = await checkoutGitSkill(spec, {
    cacheRoot: join(cacheDir(options.env), 'skills'),
    commit: pinned,
    signal: options.signal,
  });
  const base = spec.subdir ? join(checkout.root, ...spec.subdir.split('/')) : checkout.root;
  if ((await kindOf(base)) !== 'dir') {
    const top = (await readdir(checkout.root)).filter((name) => !name.startsWith('.'));
    throw new UsageError(
      `--skill ${spec.spec}: no folder ${JSON.stringify(spec.subdir)} in ${publicUrl(spec.url)} at commit ${checkout.commit.slice(0, 12)}; expected a folder of the repository after ":"; found top-level entries ${listing(top)}`,
    );
  }
  const { ref, subdir } = spec;
  const url = publicUrl(spec.url);
  const where = `${spec.subdir ?? 'the root'} of ${url} at commit ${checkout.commit.slice(0, 12)}`;
  const skills = await skillsIn(
    spec.spec,
    base,
    where,
    (dir) => ({ kind: 'git', url, ref, subdir, commit: checkout.commit, path: relative(checkout.root, dir) || '.' }),
    notices,
    stagingRoot(options),
  );
  const how = pinned ? 'the commit the job locked' : checkout.fromCache ? 'cached' : 'fetched';
  notices.push({
    level: 'note',
    message: `--skill ${spec.spec}: ${skills.map((s) => s.name).join(', ')} at commit ${checkout.commit.slice(0, 12)} (${how})`,
  });
  return skills.map((skill) => ({ spec: canonical, commit: checkout.commit, skill }));
}

/**
 * Resolves every `--skill` value before any trial: parse, fetch (git, through the cache), load and validate.
 * The first value that fails is a UsageError naming it; nothing is half-resolved.
 */
export async function resolveFlagSkills(values: readonly string[], options: ResolveSkillsOptions): Promise<FlagSkills> {
  const notices: FlagSkills['notices'] = [];
  const byName = new Map<string, FlagSkill>();
  const specs: string[] = [];
  for (const value of values) {
    const spec = parseSkillSpec(value, options.cwd);
    specs.push(formatSkillSpec(spec));
    const found =
      spec.kind === 'path' ? await localSkills(spec, options, notices) : await gitSkills(spec, options, notices);
    for (const entry of found) {
      const earlier = byName.get(entry.skill.name);
      if (earlier && earlier.spec !== entry.spec)
        notices.push({
          level: 'note',
          message: `--skill ${value}: skill ${entry.skill.name} replaces the one from --skill ${earlier.spec} (the last one wins)`,
        });
      byName.set(entry.skill.name, entry);
    }
  }
  const skills = [...byName.values()].sort((a, b) => (a.skill.name < b.skill.name ? -1 : 1));
  return { skills, specs, notices };
}

/** A task's skills with the `--skill` ones added; one of the same name replaces the task's own. */
export function withFlagSkills(own: readonly Skill[], added: readonly Skill[]): Skill[] {
  const names = new Set(added.map((s) => s.name));
  return [...own.filter((s) => !names.has(s.name)), ...added].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}
