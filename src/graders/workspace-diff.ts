import type { Workspace } from '../environments/types.js';
import { shellQuote } from '../util/shell.js';

/**
 * What the agent changed in the workdir, cheaply: a list of files with their sha256 before the agent and after
 * it (one exec each), then one more exec for the first lines of the files added or changed. No content is
 * kept from before the agent, so a changed file shows its new head, not a line diff.
 */

/** relative path → sha256. */
export type FileHashes = Map<string, string>;

export interface WorkspaceDiff {
  added: string[];
  changed: string[];
  removed: string[];
  /** The head of each added or changed text file (up to the limits below), by path. */
  excerpts: Array<{ path: string; text: string }>;
  /** The lists stopped at MAX_FILES files. */
  truncated: boolean;
}

const MAX_FILES = 5000;
const MAX_EXCERPTS = 20;
const EXCERPT_BYTES = 3000;
/** Left out: version control and dependencies (their churn says nothing about the agent's work). */
const PRUNED = ['.git', 'node_modules', '__pycache__', '.venv'];

function listCommand(workdir: string): string {
  const prune = PRUNED.map((name) => `-name ${shellQuote(name)}`).join(' -o ');
  return (
    `cd ${shellQuote(workdir)} 2>/dev/null || exit 0; ` +
    `find . \\( ${prune} \\) -prune -o -type f -print0 2>/dev/null | head -z -n ${MAX_FILES + 1} | ` +
    'xargs -0 -r sha256sum 2>/dev/null; true'
  );
}

/** The workdir's files and their hashes (as the agent's user sees them). */
export async function snapshotWorkdir(workspace: Workspace, signal?: AbortSignal): Promise<FileHashes> {
  const result = await workspace.exec(listCommand(workspace.paths.workdir), { timeoutMs: 60_000, signal });
  const hashes: FileHashes = new Map();
  for (const line of result.stdout.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](?:\.\/)?(.+)$/.exec(line);
    if (match) hashes.set(match[2]!, match[1]!);
  }
  return hashes;
}

export function compareSnapshots(before: FileHashes, after: FileHashes): Omit<WorkspaceDiff, 'excerpts'> {
  const added = [...after.keys()].filter((path) => !before.has(path)).sort();
  const changed = [...after.keys()].filter((path) => before.has(path) && before.get(path) !== after.get(path)).sort();
  const removed = [...before.keys()].filter((path) => !after.has(path)).sort();
  return { added, changed, removed, truncated: before.size > MAX_FILES || after.size > MAX_FILES };
}

/** Compares, then reads the head of the first added/changed text files in one exec. */
export async function diffWorkdir(
  workspace: Workspace,
  before: FileHashes,
  signal?: AbortSignal,
): Promise<WorkspaceDiff> {
  const after = await snapshotWorkdir(workspace, signal);
  const diff = compareSnapshots(before, after);
  const shown = [...diff.added, ...diff.changed].slice(0, MAX_EXCERPTS);
  if (shown.length === 0) return { ...diff, excerpts: [] };
  const marker = `@@skill-eval-file@@`;
  const command =
    `cd ${shellQuote(workspace.paths.workdir)} || exit 0; for f in ${shown.map(shellQuote).join(' ')}; do ` +
    `if grep -Iq . "$f" 2>/dev/null; then printf '%s %s\\n' ${shellQuote(marker)} "$f"; head -c ${EXCERPT_BYTES} "$f"; echo; fi; done`;
  const result = await workspace.exec(command, { timeoutMs: 60_000, signal });
  const excerpts: WorkspaceDiff['excerpts'] = [];
  for (const chunk of result.stdout.split(`${marker} `).slice(1)) {
    const newline = chunk.indexOf('\n');
    excerpts.push({ path: chunk.slice(0, newline), text: chunk.slice(newline + 1).replace(/\n$/, '') });
  }
  return { ...diff, excerpts };
}

/** The diff as the judge reads it. */
export function describeDiff(diff: WorkspaceDiff | undefined): string {
  if (!diff) return '(not recorded)';
  const lists = [
    ['Added', diff.added],
    ['Changed', diff.changed],
    ['Removed', diff.removed],
  ] as const;
  const lines: string[] = [];
  for (const [title, paths] of lists)
    lines.push(
      `${title} (${paths.length}): ${paths.slice(0, 200).join(', ') || 'none'}${paths.length > 200 ? ', …' : ''}`,
    );
  if (diff.truncated) lines.push(`(the workdir has more than ${MAX_FILES} files; the lists are incomplete)`);
  for (const { path, text } of diff.excerpts) lines.push('', `--- ${path} (now; first ${EXCERPT_BYTES} bytes)`, text);
  return lines.join('\n');
}
