import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { UsageError } from '../errors.js';
import { displayPath } from './problems.js';

/** One `.env` file that was read: where, and its variables (KEY=VALUE lines, comments, quotes: dotenv's rules). */
export interface DotEnvFile {
  path: string;
  vars: Record<string, string>;
}

/** Reads `<dir>/.env`; undefined when there is none. A file that exists but cannot be read is a UsageError. */
export async function readDotEnv(dir: string, cwd: string = process.cwd()): Promise<DotEnvFile | undefined> {
  const path = join(dir, '.env');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError(`${displayPath(path, cwd)}: cannot read the .env file (${code ?? String(error)})`, {
      cause: error,
    });
  }
  return { path, vars: parse(text) };
}

/**
 * The variables of several `.env` files, the later ones winning (the most specific directory goes last), and the
 * shell's environment over all of them. Returns the merged environment and the names that came from a file.
 */
export function mergeDotEnv(
  files: readonly DotEnvFile[],
  shellEnv: NodeJS.ProcessEnv,
): { env: NodeJS.ProcessEnv; fromFiles: string[] } {
  const fromFiles: Record<string, string> = {};
  for (const file of files) Object.assign(fromFiles, file.vars);
  const env: NodeJS.ProcessEnv = { ...fromFiles };
  for (const [name, value] of Object.entries(shellEnv)) if (value !== undefined) env[name] = value;
  return { env, fromFiles: Object.keys(fromFiles).sort() };
}
