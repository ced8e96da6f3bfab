import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UsageError } from '../errors.js';
import { displayPath } from '../util/problems.js';

/**
 * Turning what users type (a path, a task name or prefix, a folder of tasks, a glob, a suite file) into task
 * directories.
 */

export interface ResolveOptions {
  /** Where task names are looked up; defaults to `<cwd>/tasks`. */
  tasksDir?: string | undefined;
  cwd: string;
  /**
   * Turns an eval.yaml (a `.yaml`/`.yml` file, or a folder holding eval.yaml and no task.toml) into task
   * directories. Without it such a spec is a usage error naming `skill-eval tasks convert`.
   */
  evalYaml?: ((file: string) => Promise<string[]>) | undefined;
}

/** `loop`: a symbolic link that resolves to itself (ELOOP), reported as such rather than as missing. */
async function kindOf(path: string): Promise<'file' | 'directory' | 'missing' | 'loop'> {
  try {
    const stats = await stat(path);
    return stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'missing';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'loop' : 'missing';
  }
}

function refuseLoop(path: string, cwd: string): never {
  throw new UsageError(`${displayPath(path, cwd)}: expected a task directory; found a symbolic link loop`, {
    hint: 'the link (or one of its parents) points back to itself: fix or remove it',
  });
}

/** A task directory proper: it holds task.toml. */
export async function isTaskDir(dir: string): Promise<boolean> {
  return (await kindOf(join(dir, 'task.toml'))) === 'file';
}

/** A task directory, or what is meant to be one but lacks task.toml (it has instruction.md or tests/): reported, never skipped. */
export async function looksLikeTaskDir(dir: string): Promise<boolean> {
  if (await isTaskDir(dir)) return true;
  if ((await kindOf(join(dir, 'instruction.md'))) === 'file') return true;
  return (await kindOf(join(dir, 'tests'))) === 'directory';
}

/** The task-like subdirectories of `dir` (not hidden), sorted by name. */
export async function listTaskDirs(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const names = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  const out: string[] = [];
  for (const name of names) {
    if (await looksLikeTaskDir(join(dir, name))) out.push(join(dir, name));
  }
  return out;
}

function tasksDirOf(options: ResolveOptions): string {
  return resolve(options.cwd, options.tasksDir ?? 'tasks');
}

function listNames(names: string[], limit = 20): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown}, … (${names.length - limit} more)` : shown;
}

/**
 * One task directory from `spec`: a path to a task dir, or a task name under the tasks directory matched exactly
 * or as a unique prefix (`superlint` → `superlint_demo`). Throws UsageError for an unknown or ambiguous name.
 */
export async function resolveTaskDir(spec: string, options: ResolveOptions): Promise<string> {
  const asPath = resolve(options.cwd, spec);
  const given = await kindOf(asPath);
  if (given === 'loop') refuseLoop(asPath, options.cwd);
  if (given === 'directory' && (await looksLikeTaskDir(asPath))) return asPath;

  const tasksDir = tasksDirOf(options);
  const candidates = (await listTaskDirs(tasksDir)).map((dir) => ({ dir, name: dir.slice(tasksDir.length + 1) }));
  const looksLikePath = spec.includes('/') || spec.startsWith('.');
  if (!looksLikePath) {
    const exact = candidates.find((c) => c.name === spec);
    if (exact) return exact.dir;
    const prefixed = candidates.filter((c) => c.name.startsWith(spec));
    if (prefixed.length === 1 && prefixed[0]) return prefixed[0].dir;
    if (prefixed.length > 1) {
      throw new UsageError(`task "${spec}" is ambiguous: it matches ${listNames(prefixed.map((c) => c.name))}`, {
        hint: 'type more of the name, or give the path to the task directory',
      });
    }
  }

  const kind = await kindOf(asPath);
  if (kind === 'directory') {
    throw new UsageError(`${displayPath(asPath, options.cwd)} is not a task directory (it has no task.toml)`);
  }
  if (looksLikePath) throw new UsageError(`no such task directory: ${displayPath(asPath, options.cwd)}`);
  const available =
    candidates.length > 0
      ? `tasks in ${displayPath(tasksDir, options.cwd)}: ${listNames(candidates.map((c) => c.name))}`
      : `no tasks in ${displayPath(tasksDir, options.cwd)}`;
  throw new UsageError(`unknown task "${spec}"; ${available}`, {
    hint: 'give a task name, a path to a task directory, a folder of tasks, a glob or a suite file (.txt)',
  });
}

/** Reads a suite file: one task spec per line; `#` starts a comment. */
export async function readSuiteFile(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/**
 * Task directories for a list of specs, in order, without duplicates. Each spec is a task dir, a name or prefix,
 * a folder holding task dirs (all of them), a glob, or a suite file (`.txt`; its paths are relative to itself).
 */
export async function expandTaskSpecs(specs: readonly string[], options: ResolveOptions): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (dir: string): void => {
    if (seen.has(dir)) return;
    seen.add(dir);
    out.push(dir);
  };
  const tasksDir = tasksDirOf(options);
  await expandInto(specs, { cwd: options.cwd, tasksDir, evalYaml: options.evalYaml }, add, []);
  return out;
}

/** An eval.yaml spec: its converted task directories added; false when `path` is no eval.yaml. */
async function expandEvalYaml(
  path: string,
  kind: 'file' | 'directory' | 'missing' | 'loop',
  options: ResolveOptions,
  add: (dir: string) => void,
): Promise<boolean> {
  const isYaml = kind === 'file' && /\.ya?ml$/i.test(path);
  const holdsEvalYaml =
    kind === 'directory' && (await kindOf(join(path, 'eval.yaml'))) === 'file' && !(await isTaskDir(path));
  if (!isYaml && !holdsEvalYaml) return false;
  const file = isYaml ? path : join(path, 'eval.yaml');
  if (!options.evalYaml)
    throw new UsageError(`${displayPath(file, options.cwd)} is a skillgrade eval.yaml, not a task directory`, {
      hint: 'convert it with `skill-eval tasks convert <eval.yaml>`, or run it with `skill-eval eval <eval.yaml>`',
    });
  (await options.evalYaml(file)).forEach(add);
  return true;
}

async function expandInto(
  specs: readonly string[],
  options: ResolveOptions,
  add: (dir: string) => void,
  suiteStack: string[],
): Promise<void> {
  for (const spec of specs) {
    const asPath = resolve(options.cwd, spec);
    const kind = await kindOf(asPath);
    if (kind === 'loop') refuseLoop(asPath, options.cwd);

    if (kind === 'file' && spec.endsWith('.txt')) {
      if (suiteStack.includes(asPath))
        throw new UsageError(`suite file ${displayPath(asPath, options.cwd)} includes itself`);
      const lines = await readSuiteFile(asPath);
      await expandInto(lines, { ...options, cwd: dirname(asPath) }, add, [...suiteStack, asPath]);
      continue;
    }
    if (await expandEvalYaml(asPath, kind, options, add)) continue;
    if (kind === 'missing' && spec.endsWith('.txt')) {
      throw new UsageError(`suite file ${displayPath(asPath, options.cwd)} does not exist`);
    }

    if (kind === 'missing' && isDynamicPattern(spec)) {
      const matches = await glob(spec, {
        cwd: options.cwd,
        onlyDirectories: true,
        absolute: true,
        expandDirectories: false,
      });
      const dirs: string[] = [];
      for (const match of matches.map((m) => resolve(m)).sort()) {
        if (await looksLikeTaskDir(match)) dirs.push(match);
      }
      if (dirs.length === 0) throw new UsageError(`no task directories match ${JSON.stringify(spec)}`);
      dirs.forEach(add);
      continue;
    }

    if (kind === 'directory' && !(await isTaskDir(asPath))) {
      const children = await listTaskDirs(asPath);
      if (children.length > 0) {
        children.forEach(add);
        continue;
      }
      if (!(await looksLikeTaskDir(asPath))) {
        throw new UsageError(
          `${displayPath(asPath, options.cwd)} is neither a task directory nor a folder of task directories`,
          {
            hint: 'a task directory holds task.toml, instruction.md and tests/test.sh',
          },
        );
      }
      // Otherwise a task missing its task.toml: resolved below and reported when loaded.
    }

    add(await resolveTaskDir(spec, options));
  }
}
