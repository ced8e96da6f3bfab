import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The viewer serves files only from inside the directories it was given. A request names a path relative to one of
 * them (already URL-decoded once by the router); it is refused when it is absolute, holds a `..` segment, a NUL, a
 * backslash or a still-encoded character, or when its real path (symbolic links resolved) leaves the directory.
 */

/** Why a path was refused, for a 403/404 body that tells the user what happened. */
export type GuardOutcome = { ok: true; path: string } | { ok: false; reason: string };

export function guardPath(root: string, requested: string): GuardOutcome {
  if (requested.includes('\0')) return { ok: false, reason: 'NUL in path' };
  // Decoded once by the router: anything still encoded (%2e%2e, %2f) is an attempt, not a file name of ours.
  if (/%[0-9a-f]{2}/i.test(requested)) return { ok: false, reason: 'encoded characters in path' };
  if (requested.includes('\\')) return { ok: false, reason: 'backslash in path' };
  if (isAbsolute(requested)) return { ok: false, reason: 'absolute path' };
  const segments = requested.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..')) return { ok: false, reason: '".." in path' };
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(resolve(realRoot, ...segments));
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  if (!inside(realRoot, real)) return { ok: false, reason: 'outside the served directory' };
  return { ok: true, path: real };
}

/** `child` is `root` or below it. */
export function inside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
