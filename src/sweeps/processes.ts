import { randomBytes } from 'node:crypto';
import { createWriteStream, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExecResult } from '../environments/types.js';
import { errorMessage, InfraError, UsageError } from '../errors.js';
import { waitForModels } from '../targets/model.js';
import { groupAlive, killGroup, processAlive, runInProcessGroup, signalGroup } from '../util/process-group.js';

/**
 * The trainer and the model server are external commands: each runs as `bash -c` in its own process
 * group, its output appended to a log file, its group id in a pid file beside the log. The pid file
 * carries a random marker that is also in the command's environment, so a later run can tell an orphan of
 * an interrupted sweep (kill -9) from an unrelated process that reuses the id — and stop it.
 */

export const MARKER_VARIABLE = 'SKILL_EVAL_SWEEP_MARKER';
const KILL_GRACE_MS = 5000;

export type ProcessRole = 'train' | 'serve';

interface PidFile {
  pgid: number;
  marker: string;
  role: ProcessRole;
  command: string;
  owner_pid: number;
  started_at: string;
}

/** Groups started by this process and still running: a forced exit kills them synchronously. */
const liveGroups = new Set<number>();

export function killLiveGroupsNow(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
}

export interface LoggedCommandOptions {
  role: ProcessRole;
  command: string;
  cwd: string;
  env: Record<string, string>;
  logPath: string;
  pidFile: string;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

interface StartedCommand {
  /** Settles when the command has exited and its group is gone. */
  done: Promise<ExecResult>;
  pgid: () => number | undefined;
}

/** Written synchronously as soon as the group exists, so a kill -9 right after the spawn still leaves it. */
function writePidFileNow(path: string, content: PidFile): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content)}\n`);
  renameSync(temp, path);
}

function startLogged(options: LoggedCommandOptions): StartedCommand {
  const marker = randomBytes(8).toString('hex');
  const log = createWriteStream(options.logPath, { flags: 'a' });
  log.write(`# ${new Date().toISOString()} $ ${options.command}\n`);
  let pgid: number | undefined;
  const running = runInProcessGroup(options.command, {
    cwd: options.cwd,
    env: { ...options.env, [MARKER_VARIABLE]: marker },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    killGraceMs: KILL_GRACE_MS,
    onStdout: (chunk) => log.write(chunk),
    onStderr: (chunk) => log.write(chunk),
    onGroup: (id) => {
      pgid = id;
      liveGroups.add(id);
      writePidFileNow(options.pidFile, {
        pgid: id,
        marker,
        role: options.role,
        command: options.command,
        owner_pid: process.pid,
        started_at: new Date().toISOString(),
      });
    },
  });
  const done = (async () => {
    try {
      const result = await running;
      log.write(
        `# ${new Date().toISOString()} exit ${result.exitCode ?? `by ${result.signal ?? 'signal'}`}${result.timedOut ? ' (timed out)' : ''} after ${result.durationMs} ms\n`,
      );
      return result;
    } finally {
      // The leader is gone; anything it left in its group goes too.
      if (pgid !== undefined) {
        if (groupAlive(pgid)) await killGroup(pgid, KILL_GRACE_MS);
        liveGroups.delete(pgid);
        await rm(options.pidFile, { force: true });
      }
      await new Promise<void>((resolve) => log.end(resolve));
    }
  })();
  return { done, pgid: () => pgid };
}

/** Runs a command to the end (the trainer), output appended to the log. */
export function runLogged(options: LoggedCommandOptions): Promise<ExecResult> {
  return startLogged(options).done;
}

export interface RunningServer {
  pgid: number | undefined;
  readyMs: number;
  /** Stops the whole group; true when nothing of it is left. */
  stop: () => Promise<boolean>;
}

/** Starts a model server and waits until `GET {baseUrl}/models` answers 200; stops it if it never does. */
export async function startServer(
  options: LoggedCommandOptions & { baseUrl: string; readyTimeoutMs: number },
): Promise<RunningServer> {
  const started = Date.now();
  const handle = startLogged(options);
  let exited = false;
  void handle.done.then(
    () => (exited = true),
    () => (exited = true),
  );
  let stopping: Promise<boolean> | undefined;
  const stop = (): Promise<boolean> => {
    stopping ??= (async () => {
      const pgid = handle.pgid();
      if (pgid !== undefined) await killGroup(pgid, KILL_GRACE_MS);
      await handle.done.catch(() => undefined);
      return pgid === undefined || !groupAlive(pgid);
    })();
    return stopping;
  };
  try {
    await waitForModels(options.baseUrl, options.readyTimeoutMs, () => exited);
  } catch (error) {
    await stop();
    throw new InfraError(`model server: ${errorMessage(error)}`, {
      cause: error,
      retryable: false,
      hint: `its output: ${options.logPath}`,
    });
  }
  return { pgid: handle.pgid(), readyMs: Date.now() - started, stop };
}

/** Checks an endpoint skill-eval did not start (`--base-url`). */
export async function waitForEndpoint(baseUrl: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitForModels(baseUrl, timeoutMs, () => false);
  return Date.now() - started;
}

/** A port that was free a moment ago on 127.0.0.1, for `{port}`. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Process ids whose process group is `pgid` (Linux /proc); undefined where /proc is not available. */
export async function groupMembers(pgid: number): Promise<number[] | undefined> {
  const names = await readdir('/proc').catch(() => undefined);
  if (!names) return undefined;
  const members: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so read after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) members.push(Number(name));
  }
  return members;
}

async function carriesMarker(pid: number, marker: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return environ.split('\0').includes(`${MARKER_VARIABLE}=${marker}`);
}

/**
 * Stops what an interrupted sweep left running: for each pid file, the group is killed only when one of
 * its processes carries the file's marker. Returns what it did, for the log.
 */
export async function stopOrphans(pidFiles: readonly string[]): Promise<string[]> {
  const notes: string[] = [];
  for (const file of pidFiles) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let record: PidFile | undefined;
    try {
      record = JSON.parse(text) as PidFile;
    } catch {
      record = undefined;
    }
    if (record && Number.isInteger(record.pgid) && record.pgid > 0 && typeof record.marker === 'string') {
      const members = await groupMembers(record.pgid);
      if (members === undefined) {
        notes.push(`cannot check process group ${record.pgid} (${record.role}) without /proc: left alone`);
      } else {
        let ours = false;
        for (const pid of members) if (await carriesMarker(pid, record.marker)) ours = true;
        if (ours) {
          await killGroup(record.pgid, KILL_GRACE_MS);
          notes.push(
            `stopped the ${record.role} process group ${record.pgid} an interrupted run left behind (${file})`,
          );
        }
      }
    }
    await rm(file, { force: true });
  }
  return notes;
}

/** One sweep per out root at a time; a lock whose owner is gone (kill -9) is taken over. */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${JSON.stringify({ pid: process.pid, started_at: new Date().toISOString() })}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readFile(path, 'utf8').then(
      (text) => (JSON.parse(text) as { pid?: unknown }).pid,
      () => undefined,
    );
    if (typeof owner === 'number' && processAlive(owner)) {
      throw new UsageError(`another train-and-benchmark (pid ${owner}) is running on ${dirname(path)}`, {
        hint: `wait for it, or stop it; a stale lock is ${path}`,
      });
    }
    await rm(path, { force: true });
    await delay(10);
  }
  throw new InfraError(`could not take the lock ${path}`);
}
