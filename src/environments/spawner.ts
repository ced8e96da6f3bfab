import { type ChildProcess, spawn } from 'node:child_process';
import { directLauncher, type LaunchEvents, type Launcher, signalGroup } from '../util/process-group.js';

/**
 * A spawn helper process for the local provider. Starting a child forks the starting process, and a fork's
 * cost grows with that process's memory: from skill-eval's main thread each command cost ~2–3 ms of blocked
 * event loop plus as much again in the child's exec — the largest share of a short local trial
 * (bench/jobs/throughput.ts). A bare Node process (no loader, a few MB of heap) forks instead; the main
 * thread only exchanges small messages with it. Process groups stay the unit of control: timeouts and
 * cancels signal them from here, exactly as with directLauncher.
 *
 * If the helper cannot start, commands start directly; if it dies, commands it had not started yet start
 * directly, and those it had end as infrastructure errors (their groups are killed).
 */

export interface SpawnerRequest {
  id: number;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  stdin?: string | undefined;
}

export type SpawnerReply =
  | { type: 'pid'; id: number; pid: number }
  | { type: 'stdout' | 'stderr'; id: number; text: string }
  | { type: 'exit'; id: number; code: number | null; signal: string | null }
  | { type: 'drained'; id: number }
  | { type: 'error'; id: number; message: string };

/**
 * The helper's whole program, plain JavaScript so it runs without a loader: it starts what it is asked to
 * (as directLauncher does) and reports; it ignores terminal signals (the parent decides what stops) and exits
 * when the parent is gone.
 */
const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
const send = (reply) => { if (process.connected) process.send(reply); };
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
process.on('disconnect', () => process.exit(0));
process.on('message', (r) => {
  let child;
  try {
    child = spawn('bash', r.args, { cwd: r.cwd, env: r.env, detached: true, stdio: [r.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  } catch (error) {
    send({ type: 'error', id: r.id, message: error.message });
    return;
  }
  if (child.pid !== undefined) send({ type: 'pid', id: r.id, pid: child.pid });
  child.stdout.setEncoding('utf8').on('data', (text) => send({ type: 'stdout', id: r.id, text }));
  child.stderr.setEncoding('utf8').on('data', (text) => send({ type: 'stderr', id: r.id, text }));
  if (r.stdin !== undefined && child.stdin) { child.stdin.on('error', () => {}); child.stdin.end(r.stdin); }
  child.once('error', (error) => send({ type: 'error', id: r.id, message: error.message }));
  child.once('exit', (code, signal) => {
    send({ type: 'exit', id: r.id, code, signal });
    let done = false;
    const drained = () => { if (done) return; done = true; child.stdout.destroy(); child.stderr.destroy(); send({ type: 'drained', id: r.id }); };
    child.once('close', drained);
    setTimeout(drained, 200).unref();
  });
});
`;

interface Running {
  request: SpawnerRequest;
  events: LaunchEvents;
  pid?: number | undefined;
}

class Spawner {
  private child: ChildProcess | undefined;
  private readonly running = new Map<number, Running>();
  private nextId = 1;
  private broken = false;
  private answered = false;

  readonly launch: Launcher = (args, spec, events) => {
    const child = this.broken ? undefined : this.helper();
    if (!child) {
      directLauncher(args, spec, events);
      return;
    }
    const id = this.nextId++;
    const request: SpawnerRequest = { id, args, cwd: spec.cwd, env: spec.env, stdin: spec.stdin };
    this.running.set(id, { request, events });
    if (this.running.size === 1) this.hold(child, true);
    child.send(request, (error) => {
      if (error) this.fail(id, error);
    });
  };

  private helper(): ChildProcess | undefined {
    if (this.child) return this.child;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--max-old-space-size=64', '-e', HELPER_SOURCE], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'json',
      });
    } catch {
      this.broken = true;
      return undefined;
    }
    child.on('message', (reply: SpawnerReply) => this.receive(reply));
    child.once('error', () => this.lost(child));
    child.once('exit', () => this.lost(child));
    this.child = child;
    this.hold(child, false);
    return child;
  }

  /** The helper keeps this process alive only while it runs commands for it. */
  private hold(child: ChildProcess, held: boolean): void {
    const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (held) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }

  private receive(reply: SpawnerReply): void {
    this.answered = true;
    const entry = this.running.get(reply.id);
    if (!entry) return;
    switch (reply.type) {
      case 'pid':
        entry.pid = reply.pid;
        entry.events.pid(reply.pid);
        break;
      case 'stdout':
        entry.events.stdout(reply.text);
        break;
      case 'stderr':
        entry.events.stderr(reply.text);
        break;
      case 'exit':
        entry.events.exit(reply.code, reply.signal);
        break;
      case 'drained':
        this.finish(reply.id);
        entry.events.drained();
        break;
      case 'error':
        this.fail(reply.id, new Error(reply.message));
        break;
    }
  }

  private finish(id: number): void {
    this.running.delete(id);
    if (this.running.size === 0 && this.child) this.hold(this.child, false);
  }

  private fail(id: number, error: Error): void {
    const entry = this.running.get(id);
    if (!entry) return;
    this.finish(id);
    entry.events.error(error);
  }

  /**
   * The helper died. Commands it had not started yet start directly; those it had have no reader any more
   * (killed, reported as infrastructure errors). A helper that never answered at all is not tried again.
   */
  private lost(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (!this.answered) this.broken = true;
    for (const [id, entry] of [...this.running]) {
      if (entry.pid === undefined) {
        this.finish(id);
        const { args, cwd, env, stdin } = entry.request;
        directLauncher(args, { cwd, env, stdin }, entry.events);
        continue;
      }
      signalGroup(entry.pid, 'SIGKILL');
      this.fail(id, new Error('the spawn helper process exited'));
    }
  }
}

let shared: Spawner | undefined;

/** One helper per process, shared by every local workspace. */
export function helperLauncher(): Launcher {
  shared ??= new Spawner();
  return shared.launch;
}
