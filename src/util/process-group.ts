import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { InfraError } from '../errors.js';
import type { ExecOptions, ExecResult } from './exec.js';

/** Output kept per stream; the tail is what matters for diagnosis, and memory stays bounded. */
export const MAX_CAPTURE_BYTES = 8 * 1024 * 1024;

/** A workspace's exec options on the host: cwd and the whole environment given, no user switch. */
export interface SpawnGroupOptions extends Omit<ExecOptions, 'cwd' | 'env' | 'user'> {
  cwd: string;
  env: Record<string, string>;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Called with the process group id as soon as it exists, so an owner can kill it later. */
  onGroup?: ((pgid: number) => void) | undefined;
  /** How bash is started; directLauncher by default. */
  launcher?: Launcher | undefined;
}

/** Keeps the tail of a stream's output (the part that matters for diagnosis) within a bounded size. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  private dropped = 0;
  constructor(private readonly limit = MAX_CAPTURE_BYTES) {}
  push(chunk: string): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }
  toString(): string {
    const text = this.chunks.join('');
    return this.dropped > 0 ? `[… ${this.dropped} earlier characters dropped …]\n${text}` : text;
  }
}

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether a process exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the grace period if anything of the group is still there. */
export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return;
    await delay(25);
  }
  signalGroup(pgid, 'SIGKILL');
}

/** Calls `stop` once the timeout passes or the signal aborts, and remembers which it was. */
export class StopTrigger {
  timedOut = false;
  aborted = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => {
    this.aborted = true;
    this.stop();
  };

  constructor(
    private readonly options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
    private readonly stop: () => void,
  ) {
    this.timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            this.timedOut = true;
            this.stop();
          }, options.timeoutMs)
        : undefined;
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The command ended: no stop is due any more. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * `bash FILE` (how the lifecycle runs solve.sh and test.sh) needs no shell around it: `bash -c 'bash FILE'`
 * would start bash twice (~2 ms of CPU each). Anything else is interpreted by `bash -c`.
 */
export function bashArguments(command: string): string[] {
  const plain = /^bash ([\w./@%+:,=-]+)$/.exec(command);
  return plain ? [plain[1]!] : ['-c', command];
}

/** What a launcher reports about one command, in this order: pid, output…, exit, drained (or error at any point). */
export interface LaunchEvents {
  pid(pid: number): void;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The command's process exited (background children may still hold its output open). */
  exit(code: number | null, signal: string | null): void;
  /** Its output is closed, or was given up on shortly after the exit. */
  drained(): void;
  error(error: Error): void;
}

/** Starts `bash` as the leader of a new process group; see directLauncher. */
export type Launcher = (
  args: string[],
  spec: { cwd: string; env: Record<string, string>; stdin?: string | undefined },
  events: LaunchEvents,
) => void;

/** Forks this process: simple, but the fork's cost (it grows with this process's memory) blocks the event loop. */
export const directLauncher: Launcher = (args, spec, events) => {
  const child = spawn('bash', args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) events.pid(child.pid);
  child.stdout!.setEncoding('utf8').on('data', events.stdout);
  child.stderr!.setEncoding('utf8').on('data', events.stderr);
  if (spec.stdin !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(spec.stdin);
  }
  child.once('error', events.error);
  child.once('exit', (code, signal) => {
    events.exit(code, signal);
    void (async () => {
      // Background children may hold the pipes open; give the streams a moment, then stop reading.
      await Promise.race([new Promise((resolve) => child.once('close', resolve)), delay(200)]);
      child.stdout!.destroy();
      child.stderr!.destroy();
      events.drained();
    })();
  });
};

/**
 * Runs `bash -c command` as the leader of a new process group, so a timeout or cancel can stop the command
 * and everything it started. The exit code is the real one; undefined when the process was killed.
 */
export function runInProcessGroup(command: string, options: SpawnGroupOptions): Promise<ExecResult> {
  const started = performance.now();
  return new Promise<ExecResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ exitCode: undefined, timedOut: false, aborted: true, stdout: '', stderr: '', durationMs: 0 });
      return;
    }
    const stdout = new TailBuffer();
    const stderr = new TailBuffer();
    let killing: Promise<void> | undefined;
    let pgid: number | undefined;
    let exited: { code: number | null; signal: string | null } | undefined;
    let settled = false;
    const trigger = new StopTrigger(options, () => {
      if (pgid !== undefined && !killing) killing = killGroup(pgid, options.killGraceMs);
    });
    (options.launcher ?? directLauncher)(
      bashArguments(command),
      { cwd: options.cwd, env: options.env, stdin: options.stdin },
      {
        pid(pid) {
          pgid = pid;
          options.onGroup?.(pid);
        },
        stdout(text) {
          stdout.push(text);
          options.onStdout?.(text);
        },
        stderr(text) {
          stderr.push(text);
          options.onStderr?.(text);
        },
        exit(code, signal) {
          trigger.clear();
          exited = { code, signal };
        },
        drained() {
          void (async () => {
            if (killing) await killing;
            if (settled) return;
            settled = true;
            resolve({
              exitCode: exited?.code ?? undefined,
              signal: exited?.signal ?? undefined,
              timedOut: trigger.timedOut,
              aborted: trigger.aborted,
              stdout: stdout.toString(),
              stderr: stderr.toString(),
              durationMs: Math.round(performance.now() - started),
            });
          })();
        },
        error(error) {
          trigger.clear();
          if (settled) return;
          settled = true;
          // Whatever started has no one reading it any more.
          if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
          reject(new InfraError(`could not run bash in ${options.cwd}: ${error.message}`, { cause: error }));
        },
      },
    );
  });
}
