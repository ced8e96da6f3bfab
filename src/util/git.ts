import { execa } from 'execa';
import { InterruptedError } from '../errors.js';

export interface GitRun {
  ok: boolean;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  cwd?: string | undefined;
  /** Cancels the command (Ctrl-C): throws InterruptedError. */
  signal?: AbortSignal | undefined;
  /** Kills a command that takes longer (an unresponsive server). */
  timeoutMs?: number | undefined;
}

/** The last lines of git's stderr, on one line: what a user needs from a failure. */
export function gitReason(run: GitRun, lines = 2): string {
  const text = run.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('hint:'));
  return text.slice(-lines).join(' ') || `git exited with ${run.exitCode ?? 'a signal'}`;
}

/**
 * Runs the git CLI with an argument list (never a shell line: URLs and refs are user input). Never waits for a
 * prompt: no terminal password prompt, ssh in batch mode unless the user set GIT_SSH_COMMAND. Non-zero exits
 * are returned, not thrown.
 */
export async function runGit(args: readonly string[], options: GitOptions = {}): Promise<GitRun> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  if (!process.env.GIT_SSH_COMMAND && !process.env.GIT_SSH) env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';
  const result = await execa('git', [...args], {
    cwd: options.cwd,
    env,
    reject: false,
    stdin: 'ignore',
    cancelSignal: options.signal,
    timeout: options.timeoutMs ?? 5 * 60_000,
  });
  if (result.isCanceled) throw new InterruptedError(`git ${args[0]} cancelled`);
  const stderr = result.timedOut
    ? `${String(result.stderr)}\ntimed out after ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`
    : String(result.stderr);
  return { ok: result.exitCode === 0, exitCode: result.exitCode, stdout: String(result.stdout).trim(), stderr };
}
