import { readFile, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { Problem } from '../errors.js';
import { describeValue } from '../util/problems.js';

/**
 * skillgrade's string values (`instruction`, `rubric`, `run`) are inline text or a file relative to eval.yaml:
 * a one-line value naming an existing file is that file's content. Here the same rule, plus what skillgrade
 * leaves implicit: a one-line value that looks like a path but names no file is an error, not the text itself.
 */

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function pathKind(path: string): Promise<'file' | 'directory' | 'missing'> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'missing';
  } catch {
    return 'missing';
  }
}

/** Where a file next to eval.yaml is stored in a task: its relative path, `..` spelled `__up__` so it stays inside. */
export function storedPath(evalDir: string, absolutePath: string): string {
  return relative(evalDir, absolutePath)
    .split(sep)
    .map((part) => (part === '..' ? '__up__' : part))
    .join('/');
}

/** One line without whitespace that has a `/` or a text-file extension: meant as a file, not as the text. */
function looksLikePath(text: string): boolean {
  return !/\s/.test(text) && (text.includes('/') || /\.(?:md|markdown|txt)$/i.test(text));
}

export type Resolved = { ok: true; text: string; file?: string | undefined } | { ok: false; problem: Problem };

/** Inline text, or the content of the file it names (trimmed, as skillgrade does). */
export async function fileOrInline(
  value: string,
  context: { evalDir: string; file: string; key: string; what: string },
): Promise<Resolved> {
  const trimmed = value.trim();
  if (trimmed.includes('\n')) return { ok: true, text: trimmed };
  const candidate = resolve(context.evalDir, trimmed);
  if (await isFile(candidate)) return { ok: true, text: (await readFile(candidate, 'utf8')).trim(), file: candidate };
  if (!looksLikePath(trimmed)) return { ok: true, text: trimmed };
  return {
    ok: false,
    problem: {
      file: context.file,
      key: context.key,
      message: `no such file: ${candidate}`,
      expected: `${context.what} inline, or a file relative to eval.yaml`,
      found: describeValue(value),
      severity: 'error',
    },
  };
}

export interface ResolvedRun {
  /** The bash script the grader runs (in the workspace). */
  script: string;
  /** Files next to eval.yaml the script uses: copied into the task's tests/ (relative to the eval dir's stored path). */
  files: string[];
  /** The file `run` named, when it was one. */
  file?: string | undefined;
}

/** Relative paths in a command (`node graders/check.js`) that name something next to eval.yaml. */
const PATH_TOKEN = /(?<![\w./$-])(?:\.\/)?[\w.-]+(?:\/[\w.-]+)+/g;

/**
 * A deterministic grader's `run`: a script (several lines), a file (its content is the script), a file and its
 * arguments (`graders/check.sh --strict`: the content, with `set -- --strict`), or a command. skillgrade runs a
 * command from a workspace that holds a copy of the folders it names; here those folders go to tests/ (the agent
 * never sees them) and each path in the command is rewritten to `$GRADER_FILES/<path>`.
 */
export async function resolveRun(value: string, evalDir: string): Promise<ResolvedRun> {
  const trimmed = value.trim();
  if (trimmed.includes('\n')) return { script: trimmed, files: [] };
  const whole = resolve(evalDir, trimmed);
  if (await isFile(whole)) return { script: (await readFile(whole, 'utf8')).trim(), files: [], file: whole };
  const [first = '', ...args] = trimmed.split(/\s+/);
  const script = resolve(evalDir, first);
  if (args.length > 0 && (await isFile(script))) {
    const content = (await readFile(script, 'utf8')).trim();
    return { script: `set -- ${args.join(' ')}\n${content}`, files: [], file: script };
  }
  return rewriteCommand(trimmed, evalDir);
}

async function rewriteCommand(command: string, evalDir: string): Promise<ResolvedRun> {
  const files = new Set<string>();
  const replacements = new Map<string, string>();
  for (const match of command.matchAll(PATH_TOKEN)) {
    const token = match[0];
    const absolute = resolve(evalDir, token);
    if ((await pathKind(absolute)) === 'missing') continue;
    // Like skillgrade, the whole top folder goes along (a grader's own imports live next to it).
    const head = token.replace(/^\.\//, '').split('/')[0] ?? token;
    files.add(storedPath(evalDir, head === '..' ? absolute : resolve(evalDir, head)));
    replacements.set(token, `$GRADER_FILES/${storedPath(evalDir, absolute)}`);
  }
  const script = command.replace(PATH_TOKEN, (token) => replacements.get(token) ?? token);
  return { script, files: [...files].sort() };
}
