import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { REPO_ROOT } from './trials.js';

/** tsx's loader by its path, so the CLI also starts from a working directory outside the repository. */
export const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as a user would. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliRun> {
  return startCli(args, options).result;
}

/** Starts the real CLI in a child process and returns at once: its pid, and its outcome when it exits. */
export function startCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): { pid: number; result: Promise<CliRun> } {
  const child = execa(process.execPath, ['--import', TSX_LOADER, join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...options.env, FORCE_COLOR: '0' },
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    stdin: 'ignore',
  });
  const result = child.then((r) => ({
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  }));
  return { pid: child.pid!, result };
}
