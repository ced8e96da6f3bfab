import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CLAIMS_DIR } from '../results/read.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { processAlive } from '../util/process-group.js';

/**
 * Trial claims: a trial is run by the one process that created the next generation of its claim.
 *
 * Layout, under the job directory: `claims/<trial>/<generation>.json`, one file per generation, each created
 * exclusively (a complete temp file hard-linked to its name: link(2) fails when the name exists) and afterwards
 * only ever rewritten by its creator (heartbeat, release: temp file + rename). The current claim is the highest
 * generation. Taking over a stale claim is creating generation + 1, which, being exclusive too, only one taker
 * can win; the former owner sees that file at its next heartbeat and stops. Nothing is ever deleted while a
 * job runs, so no unlink can race a create. docs/scale.md lists what this needs from a shared file system.
 */
export { CLAIMS_DIR };

const WORKERS_DIR = '.workers';
/** The pseudo-trial whose claim serializes writing the summary and reports (finalize.ts). */
export const FINALIZE_CLAIM = '.finalize';
const GENERATION = /^(\d+)\.json$/;

export interface ClaimTiming {
  /** A claim on another host whose heartbeat has not moved for this long, by the observer's own clock, is stale. */
  staleMs: number;
  /** How often an owner refreshes its heartbeats. */
  heartbeatMs: number;
  /** Clocks may differ by this much: a heartbeat older than staleMs + skewMs by the wall clock is stale at sight. */
  skewMs: number;
}

export const DEFAULT_STALE_CLAIM_SEC = 60;
const SKEW_MS = 5 * 60_000;

export function claimTiming(staleMs = DEFAULT_STALE_CLAIM_SEC * 1000): ClaimTiming {
  return { staleMs, heartbeatMs: Math.max(50, Math.floor(staleMs / 4)), skewMs: SKEW_MS };
}

const ownerSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  /** /proc/<pid>/stat's start time: a reused pid is not mistaken for the owner. */
  pid_start: z.string().optional(),
  /** Unique per process: host, pid and a random suffix. */
  worker: z.string(),
});
export type ClaimOwner = z.infer<typeof ownerSchema>;

export const claimRecordSchema = z.object({
  trial: z.string(),
  generation: z.number().int().positive(),
  owner: ownerSchema,
  /** `released`: given up unfinished (cancelled); `done`: its result.json is written. Both are free to claim. */
  state: z.enum(['running', 'released', 'done']),
  started_at: z.string(),
  heartbeat_at: z.string(),
  /** Incremented by every heartbeat: what observers on other hosts watch (their clocks may disagree with ours). */
  beat: z.number().int().nonnegative(),
});
export type ClaimRecord = z.infer<typeof claimRecordSchema>;

export const workerRecordSchema = z.object({
  owner: ownerSchema,
  /** `eval` or `worker`. */
  command: z.string(),
  concurrency: z.number().int().positive(),
  started_at: z.string(),
  heartbeat_at: z.string(),
  beat: z.number().int().nonnegative(),
});
export type WorkerRecord = z.infer<typeof workerRecordSchema>;

export type Liveness = { kind: 'free' } | { kind: 'live' } | { kind: 'stale'; reason: string };

export interface HeldClaim {
  trial: string;
  generation: number;
  record: ClaimRecord;
  /** Aborted when another process took the claim over (this one was judged dead): the trial must stop. */
  lost: AbortController;
}

export type ClaimAttempt =
  | {
      held: HeldClaim;
      /** The generation this claim follows (released, done, or stale), if any. */
      previous?: ClaimRecord | undefined;
      tookOver?: { record: ClaimRecord; reason: string } | undefined;
    }
  | { held?: undefined; heldBy: ClaimRecord | undefined };

/** Field 22 of /proc/<pid>/stat (Linux); undefined elsewhere or when the process is gone. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .at(19);
  } catch {
    return undefined;
  }
}

export function selfOwner(): ClaimOwner {
  const host = hostname();
  const worker = `${host.replace(/[^\w.-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return { host, pid: process.pid, pid_start: processStart(process.pid), worker };
}

/** The owner ran on this host and is gone (or its pid now belongs to another process). */
function ownerGone(owner: ClaimOwner, host: string): boolean {
  if (owner.host !== host) return false;
  if (!processAlive(owner.pid)) return true;
  const start = owner.pid_start === undefined ? undefined : processStart(owner.pid);
  return start !== undefined && start !== owner.pid_start;
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Creates `path` with `content` only if no file has that name, atomically: a complete temp file is hard-linked to
 * it (link(2) is atomic and exclusive on local file systems and NFSv2+). A link whose reply was lost (an NFS
 * retransmission answers EEXIST) is recognised by the temp file's link count. Where hard links are not supported
 * the fallback is open(O_CREAT|O_EXCL) (exclusive on NFSv3+), whose file is briefly empty: readers take an
 * unreadable claim for a live one until it stays unchanged for the stale timeout.
 */
export function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeSyncFile(temp, content, 'w');
    try {
      linkSync(temp, path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (statSync(temp).nlink === 2) return true;
      if (code === 'EEXIST') return false;
      if (!LINK_UNSUPPORTED.has(code)) throw error;
    }
    try {
      writeSyncFile(path, content, 'wx');
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

function writeSyncFile(path: string, content: string, flags: 'w' | 'wx'): void {
  const fd = openSync(path, flags);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The highest claim generation of a trial (0: never claimed) and its record (undefined: unreadable). */
export function currentClaim(jobDir: string, trial: string): { generation: number; record?: ClaimRecord | undefined } {
  const dir = join(jobDir, CLAIMS_DIR, trial);
  let generation = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { generation };
  }
  for (const name of names) {
    const match = GENERATION.exec(name);
    if (match) generation = Math.max(generation, Number(match[1]));
  }
  if (generation === 0) return { generation };
  return { generation, record: readJson(join(dir, `${generation}.json`), claimRecordSchema) };
}

/** One process's claims on one job: taking, heartbeats, release, and its entry among the job's workers. */
export class ClaimBook {
  readonly owner: ClaimOwner = selfOwner();
  private readonly held = new Map<string, HeldClaim>();
  /** What this process last saw of other owners' heartbeats, and when (its monotonic clock). */
  private readonly seen = new Map<string, { beat: number; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private workerRecord: WorkerRecord | undefined;

  constructor(
    readonly jobDir: string,
    readonly timing: ClaimTiming = claimTiming(),
  ) {}

  private claimPath(trial: string, generation: number): string {
    return join(this.jobDir, CLAIMS_DIR, trial, `${generation}.json`);
  }

  /**
   * Whether a claim (or worker entry) may be taken: free when released or done; stale when its owner is gone
   * from this host, or on another host its heartbeat is older than staleMs + skewMs by the wall clock, or has not
   * moved for staleMs as this process watched it. A live owner on this host is never stale.
   */
  judge(key: string, record: { owner: ClaimOwner; heartbeat_at: string; beat: number; state?: string }): Liveness {
    if (record.state !== undefined && record.state !== 'running') return { kind: 'free' };
    const { owner } = record;
    if (ownerGone(owner, this.owner.host))
      return { kind: 'stale', reason: `its owner, process ${owner.pid} on this host, is gone` };
    if (owner.host === this.owner.host) return { kind: 'live' };
    const age = Date.now() - Date.parse(record.heartbeat_at);
    if (age > this.timing.staleMs + this.timing.skewMs)
      return { kind: 'stale', reason: `its heartbeat from ${owner.host} is ${Math.round(age / 1000)} s old` };
    const now = performance.now();
    const seen = this.seen.get(key);
    if (seen === undefined || seen.beat !== record.beat) {
      this.seen.set(key, { beat: record.beat, at: now });
      return { kind: 'live' };
    }
    if (now - seen.at >= this.timing.staleMs)
      return {
        kind: 'stale',
        reason: `its heartbeat from ${owner.host} (pid ${owner.pid}) has not moved for ${Math.round((now - seen.at) / 1000)} s`,
      };
    return { kind: 'live' };
  }

  /** Takes the trial's claim when it is free or stale; otherwise says who holds it. */
  tryClaim(trial: string): ClaimAttempt {
    const { generation, record } = currentClaim(this.jobDir, trial);
    let tookOver: { record: ClaimRecord; reason: string } | undefined;
    if (generation > 0) {
      const path = this.claimPath(trial, generation);
      // Unreadable (an O_EXCL create being written): watched like a heartbeat that never moves.
      const state = record
        ? this.judge(path, record)
        : this.judge(path, { owner: { ...this.owner, host: '?' }, heartbeat_at: new Date().toISOString(), beat: -1 });
      if (state.kind === 'live') return { heldBy: record };
      if (state.kind === 'stale' && record) tookOver = { record, reason: state.reason };
    }
    const at = new Date().toISOString();
    const next: ClaimRecord = {
      trial,
      generation: generation + 1,
      owner: this.owner,
      state: 'running',
      started_at: at,
      heartbeat_at: at,
      beat: 0,
    };
    mkdirSync(join(this.jobDir, CLAIMS_DIR, trial), { recursive: true });
    if (!createExclusive(this.claimPath(trial, next.generation), `${JSON.stringify(next, null, 2)}\n`))
      return { heldBy: currentClaim(this.jobDir, trial).record };
    const held: HeldClaim = { trial, generation: next.generation, record: next, lost: new AbortController() };
    this.held.set(trial, held);
    return { held, previous: record, tookOver };
  }

  /** Gives a claim up: `done` once the trial's result.json is written, `released` when it stopped unfinished. */
  release(held: HeldClaim, state: 'done' | 'released'): void {
    this.held.delete(held.trial);
    if (held.lost.signal.aborted || existsSync(this.claimPath(held.trial, held.generation + 1))) return;
    held.record = { ...held.record, state, heartbeat_at: new Date().toISOString() };
    writeJsonAtomicSync(this.claimPath(held.trial, held.generation), held.record);
  }

  /** Refreshes every held claim and this worker's entry; a claim taken over meanwhile is given up (its `lost`). */
  heartbeat(): void {
    const at = new Date().toISOString();
    for (const held of [...this.held.values()]) {
      try {
        if (existsSync(this.claimPath(held.trial, held.generation + 1))) {
          this.held.delete(held.trial);
          held.lost.abort(new Error(`the claim on ${held.trial} was taken over by another process`));
          continue;
        }
        held.record = { ...held.record, heartbeat_at: at, beat: held.record.beat + 1 };
        writeJsonAtomicSync(this.claimPath(held.trial, held.generation), held.record);
      } catch {
        // A file-system hiccup (NFS): the next heartbeat tries again, well within the stale timeout.
      }
    }
    if (this.workerRecord) {
      this.workerRecord = { ...this.workerRecord, heartbeat_at: at, beat: this.workerRecord.beat + 1 };
      try {
        writeJsonAtomicSync(this.workerPath(this.owner.worker), this.workerRecord);
      } catch {
        // as above
      }
    }
  }

  private workerPath(worker: string): string {
    return join(this.jobDir, CLAIMS_DIR, WORKERS_DIR, `${worker}.json`);
  }

  /** Enters this process among the job's workers and starts the heartbeats. */
  start(command: string, concurrency: number): void {
    mkdirSync(join(this.jobDir, CLAIMS_DIR, WORKERS_DIR), { recursive: true });
    const at = new Date().toISOString();
    this.workerRecord = { owner: this.owner, command, concurrency, started_at: at, heartbeat_at: at, beat: 0 };
    writeJsonAtomicSync(this.workerPath(this.owner.worker), this.workerRecord);
    this.timer = setInterval(() => this.heartbeat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeats, releases what is still held and leaves the list of workers. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const held of [...this.held.values()]) {
      try {
        this.release(held, 'released');
      } catch {
        // it goes stale instead
      }
    }
    if (this.workerRecord) rmSync(this.workerPath(this.owner.worker), { force: true });
    this.workerRecord = undefined;
  }

  /** The other workers of this job that are alive (as far as this process can tell), by their entries. */
  otherWorkers(): WorkerRecord[] {
    return listWorkers(this.jobDir).filter(
      (w) => w.owner.worker !== this.owner.worker && this.judge(this.workerPath(w.owner.worker), w).kind !== 'stale',
    );
  }
}

/** Every worker entry of a job (live or not). */
export function listWorkers(jobDir: string): WorkerRecord[] {
  const dir = join(jobDir, CLAIMS_DIR, WORKERS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  } catch {
    return [];
  }
  return names.flatMap((name) => readJson(join(dir, name), workerRecordSchema) ?? []);
}

/** `host pid N` for messages. */
export function describeOwner(owner: ClaimOwner): string {
  return `${owner.host} pid ${owner.pid}`;
}
