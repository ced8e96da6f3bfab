import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
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

/**
 * Runs `bash -c command` as the leader of a new process group, so a timeout or cancel can stop the command
 * and everything it started. The exit code is the real one; undefined when the process was killed.
 */
export function runInProcessGroup(command: string, options: SpawnGroupOptions): Promise<ExecResult> {
  const started = performance.now();
  if (options.signal?.aborted) {
    return Promise.resolve({
      exitCode: undefined,
      timedOut: false,
      aborted: true,
      stdout: '',
      stderr: '',
      durationMs: 0,
    });
  }
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn('bash', bashArguments(command), {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const pgid = child.pid;
    if (pgid !== undefined) options.onGroup?.(pgid);
    let killing: Promise<void> | undefined;
    const trigger = new StopTrigger(options, () => {
      if (pgid !== undefined) killing ??= killGroup(pgid, options.killGraceMs);
    });
    const stdout = capture(child.stdout!, options.onStdout);
    const stderr = capture(child.stderr!, options.onStderr);
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the command may exit without reading its input
      child.stdin.end(options.stdin);
    }
    let settled = false;
    child.once('error', (error) => {
      trigger.clear();
      if (settled) return;
      settled = true;
      // Whatever started has no one reading it any more.
      if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
      reject(new InfraError(`could not run bash in ${options.cwd}: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      trigger.clear();
      void (async () => {
        // Background children may hold the pipes open; give the streams a moment, then stop reading.
        await Promise.race([new Promise((done) => child.once('close', done)), delay(200)]);
        child.stdout!.destroy();
        child.stderr!.destroy();
        if (killing) await killing;
        if (settled) return;
        settled = true;
        resolve({
          exitCode: code ?? undefined,
          signal: signal ?? undefined,
          timedOut: trigger.timedOut,
          aborted: trigger.aborted,
          stdout: stdout.toString(),
          stderr: stderr.toString(),
          durationMs: Math.round(performance.now() - started),
        });
      })();
    });
  });
}

/** Keeps a stream's tail and passes each chunk on as it arrives. */
function capture(stream: Readable, onChunk: ((chunk: string) => void) | undefined): TailBuffer {
  const tail = new TailBuffer();
  stream.setEncoding('utf8').on('data', (text: string) => {
    tail.push(text);
    onChunk?.(text);
  });
  return tail;
}
