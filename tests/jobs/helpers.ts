import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { EvalJobOptions } from '../../src/jobs/eval-options.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';

export const JOB_FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'jobs');

/** An eval job of one trivial trial, baseline arm, on the local provider: what each test changes is given. */
export function trivialJobOptions(resultsDir: string, overrides: Partial<EvalJobOptions> = {}): EvalJobOptions {
  return {
    tasks: [join(JOB_FIXTURES, 'trivial')],
    agent: 'oracle',
    provider: 'local',
    trials: 1,
    skills: false,
    compare: false,
    resultsDir,
    env: [],
    concurrency: 1,
    passThreshold: 1,
    forceBuild: false,
    newJob: false,
    maxRetries: 0,
    ...overrides,
  };
}

/** Processes whose command line contains `pattern` (pgrep -f), as "pid command" lines. */
export function pgrep(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Local trial roots (`skill-eval-<pid>-<trial>-…`) left under a TMPDIR. */
export async function trialRoots(tmp: string): Promise<string[]> {
  if (!existsSync(tmp)) return [];
  return (await readdir(tmp)).filter((name) => name.startsWith('skill-eval-'));
}

export async function waitUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

/**
 * The real CLI in a real terminal: a private tmux server (own socket, so parallel tests and a user's tmux are
 * untouched), one pane of a fixed size. The CLI runs without CI set (the live display is for people), with a
 * TMPDIR the test owns; its exit code is written to a file and the pane stays open for capture afterwards.
 */
export class TmuxCli {
  private constructor(
    readonly dir: string,
    private readonly socket: string,
    private readonly exitFile: string,
  ) {}

  static async start(
    args: string[],
    options: { tmpdir: string; width?: number; height?: number; env?: Record<string, string> },
  ): Promise<TmuxCli> {
    const dir = await tempDir('tmux');
    const socket = join(dir, 'tmux.sock');
    const exitFile = join(dir, 'exit-code');
    const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const exports = Object.entries({ TMPDIR: options.tmpdir, ...options.env }).map(
      ([k, v]) => `export ${k}=${quote(v)}`,
    );
    const script = [
      '#!/usr/bin/env bash',
      'unset CI',
      ...exports,
      `cd ${quote(REPO_ROOT)}`,
      `${quote(process.execPath)} --import tsx src/cli/main.ts ${args.map(quote).join(' ')}`,
      `echo "$?" > ${quote(exitFile)}`,
      'exec sleep 600',
    ].join('\n');
    const scriptPath = join(dir, 'run.sh');
    await writeFile(scriptPath, `${script}\n`);
    await chmod(scriptPath, 0o755);
    await mkdir(options.tmpdir, { recursive: true });
    // exec: the pane's shell would otherwise die of the Ctrl-C meant for the CLI and take the pane with it.
    // -u: the display's · and … survive whatever locale the test runs under.
    execFileSync('tmux', [
      '-u',
      '-S',
      socket,
      'new-session',
      '-d',
      '-x',
      String(options.width ?? 160),
      '-y',
      String(options.height ?? 40),
      `exec ${quote(scriptPath)}`,
    ]);
    return new TmuxCli(dir, socket, exitFile);
  }

  /** The visible screen, as text. */
  capture(): string {
    return execFileSync('tmux', ['-S', this.socket, 'capture-pane', '-p', '-J'], { encoding: 'utf8' });
  }

  sendKeys(...keys: string[]): void {
    execFileSync('tmux', ['-S', this.socket, 'send-keys', ...keys]);
  }

  /** Polls the screen until it matches; returns the matching screen. */
  async waitForScreen(pattern: RegExp, timeoutMs: number): Promise<string> {
    let last = '';
    try {
      return await waitUntil(
        () => {
          last = this.capture();
          return pattern.test(last) ? last : undefined;
        },
        timeoutMs,
        `${pattern} on the screen`,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; last screen:\n${last}`);
    }
  }

  async exitCode(timeoutMs: number): Promise<number> {
    const text = await waitUntil(
      async () => (existsSync(this.exitFile) ? (await readFile(this.exitFile, 'utf8')).trim() || undefined : undefined),
      timeoutMs,
      'the CLI to exit',
    );
    return Number(text);
  }

  kill(): void {
    try {
      execFileSync('tmux', ['-S', this.socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
