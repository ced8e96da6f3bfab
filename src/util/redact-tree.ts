import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, readlink, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContentOutcome, type ContentRedactor, redactContent } from './redact-content.js';

/** The suffix of the note left in place of a removed file. */
export const NOTE_SUFFIX = '.redacted.txt';

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** `name`, or `name-2`, `name-3`, … when something is already there: a rename never replaces an entry. */
async function freeName(dir: string, name: string): Promise<string> {
  let candidate = name;
  for (let n = 2; await exists(join(dir, candidate)); n += 1) candidate = `${name}-${n}`;
  return candidate;
}

async function readOutcome(path: string, redactor: ContentRedactor): Promise<ContentOutcome & { size: number }> {
  try {
    const data = await readFile(path);
    return { ...(await redactContent(data, redactor)), size: data.length };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return { kind: 'removed', reason: `a file that could not be read (${code}) to scan it`, size: 0 };
  }
}

/** Redacts a regular file's bytes; one that can't be rewritten goes, and a note takes its place. */
async function redactFile(dir: string, name: string, redactor: ContentRedactor): Promise<boolean> {
  const path = join(dir, name);
  const outcome = await readOutcome(path, redactor);
  if (outcome.kind === 'clean') return false;
  if (outcome.kind === 'rewritten') {
    await writeFile(path, outcome.data);
    return true;
  }
  await unlink(path);
  const shownName = redactor.redact(name);
  const note =
    `skill-eval removed ${JSON.stringify(shownName)} (${outcome.size} bytes) from the results: it held a secret ` +
    `(literal or encoded) and is ${outcome.reason}.\n`;
  await writeFile(join(dir, await freeName(dir, `${shownName}${NOTE_SUFFIX}`)), note, { mode: 0o644 });
  return true;
}

/** A symlink is re-created with its target redacted (never followed). */
async function redactLink(path: string, redactor: ContentRedactor): Promise<boolean> {
  const target = await readlink(path);
  const redacted = redactor.redact(target);
  if (redacted === target) return false;
  await unlink(path);
  await symlink(redacted, path);
  return true;
}

/** One entry: its contents (a directory's first), then its name. Returns how many things changed. */
async function redactEntry(dir: string, entry: Dirent, redactor: ContentRedactor): Promise<number> {
  const path = join(dir, entry.name);
  let changed = 0;
  if (entry.isDirectory()) changed += await redactTree(path, redactor);
  else if (entry.isSymbolicLink() && (await redactLink(path, redactor))) changed += 1;
  else if (entry.isFile() && (await redactFile(dir, entry.name, redactor))) {
    // Rewritten in place, or removed (a note in its place, under a redacted name already).
    if (!(await exists(path))) return changed + 1;
    changed += 1;
  }
  const name = redactor.redact(entry.name);
  if (name === entry.name) return changed;
  await rename(path, join(dir, await freeName(dir, name)));
  return changed + 1;
}

/**
 * Redacts everything under `dir`: file contents (redact-content.ts), file and directory names, symlink targets.
 * Links are not followed. Returns how many entries changed.
 */
export async function redactTree(dir: string, redactor: ContentRedactor): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let changed = 0;
  for (const entry of entries) changed += await redactEntry(dir, entry, redactor);
  return changed;
}
