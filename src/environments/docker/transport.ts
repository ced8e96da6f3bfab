import type { Duplex, Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { SCRIPTS } from './scripts.js';

/**
 * What every exec of the provider shares (exec.ts for commands, verify.ts for the verification): how an exec is
 * started, the marker lines the wrapper scripts write on stderr (`\x1eSKILL_EVAL_<WORD> <value>`, the first byte
 * being ASCII's record separator, which no command prints by accident), and how a running command's process
 * group is stopped from another exec.
 */

export const MARKER_PREFIX = '\x1eSKILL_EVAL_';

/** `EXEC <pgid> <sid>`: the group a command runs in and the exec's session (exec.sh, verify.sh). */
export const GROUP_WORD = 'EXEC';

export interface ProcessGroup {
  pgid: string;
  /** The exec's session ('' when unknown): what the command started with job control of its own is in it. */
  sid: string;
}

/** A marker line (without its newline) as word and value; undefined for any other line. */
export function readMarker(line: string): { word: string; value: string } | undefined {
  if (!line.startsWith(MARKER_PREFIX)) return undefined;
  const body = line.slice(MARKER_PREFIX.length);
  const space = body.indexOf(' ');
  return space < 0 ? { word: body, value: '' } : { word: body.slice(0, space), value: body.slice(space + 1) };
}

/** The value of an `EXEC` marker as a process group; undefined when it is not one. */
export function parseGroup(value: string): ProcessGroup | undefined {
  const [pgid, sid] = value.trim().split(/\s+/);
  if (!pgid || !/^\d+$/.test(pgid)) return undefined;
  return { pgid, sid: sid && /^\d+$/.test(sid) ? sid : '' };
}

export function envList(env: Record<string, string> | undefined): string[] | undefined {
  if (!env) return undefined;
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

export interface StartExecOptions {
  cmd: string[];
  user?: string | undefined;
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  /** Attach stdin (hijacked stream: write, then end it to close the command's stdin). */
  stdin: boolean;
}

/** Creates and starts an exec; throws the engine's refusal as is (the caller words it). */
export async function startExec(
  container: Docker.Container,
  options: StartExecOptions,
): Promise<{ exec: Docker.Exec; stream: Duplex }> {
  const exec = await container.exec({
    Cmd: options.cmd,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: options.stdin,
    Tty: false,
    ...(options.user !== undefined ? { User: options.user } : {}),
    ...(options.cwd !== undefined ? { WorkingDir: options.cwd } : {}),
    ...(options.env ? { Env: envList(options.env) } : {}),
  });
  const stream = (await exec.start({
    hijack: options.stdin,
    stdin: options.stdin,
    Detach: false,
    Tty: false,
  })) as Duplex;
  stream.on('error', () => undefined); // a broken stream ends the exec like any other end
  return { exec, stream };
}

/** Settles when the exec's stream is over, however it ended. */
export function streamEnded(stream: Readable): Promise<void> {
  return new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

/** Runs a short helper script in the container as root and waits for it (kills, sweeps, rm). */
export async function runHelper(container: Docker.Container, script: string, args: string[]): Promise<void> {
  const { stream } = await startExec(container, {
    cmd: ['bash', '-c', script, 'skill-eval-helper', ...args],
    user: '0',
    stdin: false,
  });
  stream.resume();
  await streamEnded(stream);
}

/** Sends `sig` to the group and the rest of its session (kill-group.sh); a gone container is no error. */
export async function signalGroup(
  container: Docker.Container,
  group: ProcessGroup | undefined,
  sig: 'TERM' | 'KILL',
): Promise<void> {
  if (!group) return;
  await runHelper(container, SCRIPTS.killGroup, [sig, group.pgid, group.sid]).catch(() => undefined);
}

/**
 * SIGTERM to the command's group, SIGKILL after `graceMs` unless `settled` came first. `group` is read at each
 * signal: the marker line may arrive after the stop was asked.
 */
export async function terminateGroup(
  container: Docker.Container,
  group: () => ProcessGroup | undefined,
  options: { graceMs: number; settled: Promise<void>; isSettled: () => boolean },
): Promise<void> {
  await signalGroup(container, group(), 'TERM');
  await Promise.race([options.settled, delay(options.graceMs)]);
  if (!options.isSettled()) await signalGroup(container, group(), 'KILL');
}

/**
 * The exit code of a finished exec; undefined when unknown (still running, the container vanished). An exit code
 * ≥ 128 means killed by a signal: if the container itself died (removed, OOM-killed init), the command did not
 * end on its own and its exit code is unknown. The engine may not have noticed the death yet when the stream
 * ends: look a few times.
 */
export async function exitCodeOf(container: Docker.Container, exec: Docker.Exec): Promise<number | undefined> {
  let exitCode: number | undefined;
  try {
    const info = await exec.inspect();
    exitCode = !info.Running && typeof info.ExitCode === 'number' ? info.ExitCode : undefined;
  } catch {
    return undefined; // the container vanished: unknown, never success
  }
  return unlessContainerDied(container, exitCode);
}

export async function unlessContainerDied(
  container: Docker.Container,
  exitCode: number | undefined,
): Promise<number | undefined> {
  if (exitCode === undefined || exitCode < 128) return exitCode;
  for (let look = 0; look < 4; look++) {
    if (look > 0) await delay(50);
    const alive = await container.inspect().then(
      (info) => info.State.Running && info.State.Status === 'running',
      () => false,
    );
    if (!alive) return undefined;
  }
  return exitCode;
}
