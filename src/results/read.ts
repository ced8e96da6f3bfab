import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, extname, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import {
  BatchReader,
  type BatchReply,
  type BatchRequest,
  LEGACY_AGENT,
  OUT_IGNORED,
  OUT_LEGACY,
  OUT_MISSING,
  OUT_REPORT,
  OUT_TRIAL,
  OUT_UNREADABLE,
  TASK_FILE,
  TASK_PROBE,
  TASK_TRIAL_FILE,
  TRIAL_FIELDS,
  TRIAL_RESULT_FILE,
} from './read-batch.js';
import type { TrialStatus } from './schema.js';

/**
 * Streams trial results out of result directories: every `result.json` of schema
 * `skill-eval/trial-result@1`, and the original skill-eval's `EvalReport` JSON files (for migration).
 * Each trial is handed to a callback as soon as its file is read, so nothing holds all results at once.
 */

export { LEGACY_AGENT };

export type Arm = 'with-skills' | 'no-skills';

/** What analytics needs of one trial, the same for our results and legacy reports. */
export interface TrialRecord {
  source: 'trial-result' | 'legacy-report';
  file: string;
  /** Unique per trial; duplicates (the same file reached twice) are dropped. */
  trialId: string;
  trialName: string;
  task: string;
  agent: string;
  model: string | undefined;
  arm: Arm;
  status: TrialStatus;
  reward: number | undefined;
  durationMs: number | undefined;
  /** Input + output tokens, when the agent reported usage. */
  tokens: number | undefined;
  /** Undefined when the agent cannot tell which skills it used. */
  skillsActivated: readonly string[] | undefined;
  errorMessage: string | undefined;
}

export interface ReadProblem {
  file: string;
  reason: string;
}

export interface ReadSummary {
  /** Absolute directories searched. */
  searched: string[];
  /** JSON files opened. */
  filesRead: number;
  trialResults: number;
  legacyReports: number;
  legacyTrials: number;
  /** Our per-task report files (`skill_eval_version`, no `schema`): skipped, the trial files are authoritative. */
  skippedReportFiles: number;
  /** JSON files that are neither a trial result nor an EvalReport (job configs and the like). */
  ignoredFiles: number;
  /** The same trial reached twice (overlapping directories, copies). */
  duplicateTrials: number;
  /** Files that claim to be results but cannot be read; each is skipped, never fatal. */
  problems: ReadProblem[];
  /** Who read the files: worker threads started, and the files (and probed directories) each side read. */
  threads?: { workers: number; filesByWorkers: number; filesOnMainThread: number } | undefined;
}

export interface ReadOptions {
  /** Files read on this thread between two yields to the event loop (keeps signals and timers alive on huge trees). */
  yieldEvery?: number | undefined;
  /** Worker threads that read the files; 0 reads them all on this thread. Default: see defaultReadWorkers(). */
  workers?: number | undefined;
  /** Files queued before the workers start (below that, starting them costs more than it saves). Default 4096. */
  startWorkersAfter?: number | undefined;
  /** Wait for the workers to load instead of reading on this thread meanwhile (tests: every batch goes to a worker). */
  waitForWorkers?: boolean | undefined;
}

/** Directories never searched: VCS metadata, dependencies, hidden caches. */
const SKIPPED_DIRECTORY = /^(?:\.|node_modules$)/;
/** Directory listings started before their turn (bounded: each holds a whole listing in memory). */
const LISTINGS_AHEAD = 3;
/** Files per message to a worker: large enough that messaging costs little per file, small enough to balance. */
const BATCH_SIZE = 256;
/** Batches sent to a worker and not answered yet: one being read, one waiting, so it never idles. */
const BATCHES_PER_WORKER = 2;
const DEFAULT_START_WORKERS_AFTER = 4096;

/** One worker per core, at most 4 (beyond that the main thread's share of the work is the limit); none on one core. */
export function defaultReadWorkers(): number {
  const cores = availableParallelism();
  return cores > 1 ? Math.min(cores, 4) : 0;
}

/**
 * The main thread lists the directories (asynchronously) and queues the files in batches; worker
 * threads (src/results/read-worker.ts) read, parse and validate them (src/results/read-batch.ts) and
 * send back only the fields analytics needs. Replies are handed on in the order the batches were
 * queued, so the records, and so the report, are the same whatever the threads' timing, and the same
 * as with no worker at all. Memory holds the batches in flight plus the accumulators.
 *
 * Measured on 100,000 small result files, opening and reading a file costs as much CPU as parsing
 * it: both are spread over the workers. Small inputs are read on this thread (threads start only past
 * startWorkersAfter files), and so is everything queued while the workers are starting.
 */
export async function readResults(
  dirs: readonly string[],
  onTrial: (record: TrialRecord) => void,
  options: ReadOptions = {},
): Promise<ReadSummary> {
  const searched = [...new Set(dirs.map((dir) => resolve(dir)))];
  // A root inside another root would be read twice: search only the outermost.
  const roots = searched.filter(
    (dir) => !searched.some((other) => other !== dir && dir.startsWith(other.endsWith(sep) ? other : `${other}${sep}`)),
  );
  const summary: ReadSummary = {
    searched,
    filesRead: 0,
    trialResults: 0,
    legacyReports: 0,
    legacyTrials: 0,
    skippedReportFiles: 0,
    ignoredFiles: 0,
    duplicateTrials: 0,
    problems: [],
  };
  const seenTrialIds = new Set<string>();

  const emit = (record: TrialRecord): void => {
    if (seenTrialIds.has(record.trialId)) {
      summary.duplicateTrials++;
      return;
    }
    seenTrialIds.add(record.trialId);
    onTrial(record);
  };

  const deliver = (batch: Batch, reply: Reply): void => {
    const { codes, values } = reply;
    let next = 0;
    for (let index = 0; index < batch.count; index++) {
      const path = batch.paths[index]!;
      const group = batch.groups[index];
      if (group) group.pending--;
      const code = codes[index];
      if (code === OUT_MISSING) {
        group!.missing.push(path);
        continue;
      }
      const file = batch.kinds[index] === TASK_PROBE ? `${path}${sep}${TRIAL_RESULT_FILE}` : path;
      if (code !== OUT_UNREADABLE) summary.filesRead++;
      switch (code) {
        case OUT_TRIAL:
          summary.trialResults++;
          emit({
            source: 'trial-result',
            file,
            trialId: values[next] as string,
            trialName: values[next + 1] as string,
            task: values[next + 2] as string,
            agent: values[next + 3] as string,
            model: values[next + 4] as string | undefined,
            arm: values[next + 5] as Arm,
            status: values[next + 6] as TrialStatus,
            reward: values[next + 7] as number | undefined,
            durationMs: values[next + 8] as number | undefined,
            tokens: values[next + 9] as number | undefined,
            skillsActivated: values[next + 10] as string[] | undefined,
            errorMessage: values[next + 11] as string | undefined,
          });
          next += TRIAL_FIELDS;
          break;
        case OUT_LEGACY: {
          const records = values[next++] as TrialRecord[];
          summary.legacyReports++;
          summary.legacyTrials += records.length;
          for (const record of records) emit(record);
          break;
        }
        case OUT_REPORT:
          summary.skippedReportFiles++;
          break;
        case OUT_IGNORED:
          summary.ignoredFiles++;
          break;
        default:
          // OUT_PROBLEM, OUT_UNREADABLE
          summary.problems.push({ file, reason: values[next++] as string });
      }
    }
  };

  const reading = new ReadPipeline(
    {
      workers: options.workers ?? defaultReadWorkers(),
      startWorkersAfter: options.startWorkersAfter ?? DEFAULT_START_WORKERS_AFTER,
      yieldEvery: options.yieldEvery ?? 1024,
      waitForWorkers: options.waitForWorkers ?? false,
    },
    deliver,
  );

  const list = (dir: string): Promise<Dirent[] | Error> =>
    readdir(dir, { withFileTypes: true }).catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );

  // Symbolic links are not followed (a Dirent of a link is neither file nor directory), so no cycles.
  const visitDirectory = async (dir: string, listing: Promise<Dirent[] | Error> = list(dir)): Promise<void> => {
    const entries = await listing;
    if (entries instanceof Error) {
      summary.problems.push({ file: dir, reason: `cannot list (${entries.message})` });
      return;
    }
    // A directory holding result.json is a trial directory: its agent/verifier/artifacts trees are not ours to read.
    if (entries.some((entry) => entry.name === TRIAL_RESULT_FILE && entry.isFile())) {
      if (reading.add(TASK_TRIAL_FILE, `${dir}${sep}${TRIAL_RESULT_FILE}`, undefined)) await reading.flush();
      return;
    }
    const group: Group = { pending: 0, missing: [] };
    for (const entry of entries) {
      if (SKIPPED_DIRECTORY.test(entry.name)) continue;
      // Plain concatenation: `dir` is already absolute and normalized, and path.join costs 2 µs a call.
      const path = `${dir}${sep}${entry.name}`;
      let full: boolean;
      if (entry.isDirectory()) {
        // Most subdirectories of a job are trial directories: try their result.json before listing them.
        group.pending++;
        full = reading.add(TASK_PROBE, path, group);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        full = reading.add(TASK_FILE, path, undefined);
      } else {
        continue;
      }
      if (full) await reading.flush();
    }
    // Which subdirectories have no result.json (and so are to be listed) is known once their probes are answered.
    if (group.pending > 0) {
      await reading.flush();
      await reading.waitFor(() => group.pending === 0);
    }
    // The next few listings run in the thread pool while this thread reads the files of the current one.
    const subdirectories = group.missing;
    const listings: Array<Promise<Dirent[] | Error> | undefined> = [];
    for (let index = 0; index < subdirectories.length; index++) {
      for (let ahead = index; ahead < Math.min(subdirectories.length, index + LISTINGS_AHEAD); ahead++)
        listings[ahead] ??= list(subdirectories[ahead]!);
      await visitDirectory(subdirectories[index]!, listings[index]);
      listings[index] = undefined;
    }
  };

  try {
    for (const root of roots) {
      let isFile: boolean;
      try {
        isFile = (await stat(root)).isFile();
      } catch (error) {
        summary.problems.push({ file: root, reason: `cannot open (${errorMessage(error)})` });
        continue;
      }
      // A file named on the command line is read as it is; a directory is searched.
      if (!isFile) await visitDirectory(root);
      else if (reading.add(basename(root) === TRIAL_RESULT_FILE ? TASK_TRIAL_FILE : TASK_FILE, root, undefined))
        await reading.flush();
    }
    await reading.drain();
  } finally {
    await reading.close();
  }
  summary.threads = reading.stats();
  // Problems in a stable order, whatever order the directories listed in.
  summary.problems.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
  return summary;
}

/** The subdirectories probed for a result.json while one directory is visited. */
interface Group {
  /** Probes not answered yet. */
  pending: number;
  /** Subdirectories without a result.json, in listing order. */
  missing: string[];
}

class Batch {
  count = 0;
  readonly kinds = new Uint8Array(BATCH_SIZE);
  readonly paths: string[] = [];
  readonly groups: Array<Group | undefined> = [];
  constructor(readonly id: number) {}

  request(): BatchRequest {
    return { id: this.id, count: this.count, kinds: this.kinds, paths: this.paths };
  }
}

type Reply = Pick<BatchReply, 'codes' | 'values'>;

interface ReaderThread {
  worker: Worker;
  /** Loaded and listening (under tsx, loading takes a few hundred milliseconds). */
  ready: boolean;
  dead: boolean;
  inFlight: Map<number, Batch>;
}

interface PipelineOptions {
  workers: number;
  startWorkersAfter: number;
  yieldEvery: number;
  waitForWorkers: boolean;
}

/**
 * Batches of files to read, sent to worker threads (or read on this thread while none is ready), and
 * their replies handed to `deliver` strictly in the order the batches were made.
 */
class ReadPipeline {
  private current: Batch;
  private nextId = 1;
  private nextToDeliver = 0;
  private queued = 0;
  private sinceYield = 0;
  /** Batches made and not yet delivered, by id. */
  private readonly unanswered = new Map<number, Batch>();
  /** Replies that arrived before an earlier batch's. */
  private readonly early = new Map<number, Reply>();
  private readonly threads: ReaderThread[] = [];
  private local: BatchReader | undefined;
  private waiters: Array<() => void> = [];
  private recovering: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private started = false;
  private closing = false;
  private filesByWorkers = 0;
  private filesOnMainThread = 0;

  constructor(
    private readonly options: PipelineOptions,
    private readonly deliver: (batch: Batch, reply: Reply) => void,
  ) {
    this.current = new Batch(0);
  }

  /** Queues one path; true when the batch is full and should be flushed. */
  add(kind: number, path: string, group: Group | undefined): boolean {
    const batch = this.current;
    batch.kinds[batch.count] = kind;
    batch.paths.push(path);
    batch.groups.push(group);
    this.queued++;
    return ++batch.count === BATCH_SIZE;
  }

  /** Sends the current batch to a worker, or reads it here when none can take it. */
  async flush(): Promise<void> {
    const batch = this.current;
    if (batch.count === 0) return;
    this.current = new Batch(this.nextId++);
    this.unanswered.set(batch.id, batch);
    if (!this.started && this.options.workers > 0 && this.queued >= this.options.startWorkersAfter) this.startThreads();
    for (;;) {
      this.throwIfFailed();
      const thread = this.idlestThread();
      if (thread) {
        thread.inFlight.set(batch.id, batch);
        thread.worker.postMessage(batch.request());
        return;
      }
      const starting = this.threads.some((candidate) => !candidate.ready && !candidate.dead);
      if (
        !this.threads.some((candidate) => candidate.ready && !candidate.dead) &&
        !(starting && this.options.waitForWorkers)
      ) {
        await this.readHere(batch);
        return;
      }
      await this.nextEvent();
    }
  }

  /** Resolves once `condition` holds (it is checked after every reply); throws what broke the reading. */
  async waitFor(condition: () => boolean): Promise<void> {
    for (;;) {
      this.throwIfFailed();
      if (condition()) return;
      await this.nextEvent();
    }
  }

  /** Sends what is queued and waits until every batch is delivered. */
  async drain(): Promise<void> {
    await this.flush();
    await this.recovering;
    await this.waitFor(() => this.unanswered.size === 0);
  }

  stats(): NonNullable<ReadSummary['threads']> {
    return {
      workers: this.threads.length,
      filesByWorkers: this.filesByWorkers,
      filesOnMainThread: this.filesOnMainThread,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private idlestThread(): ReaderThread | undefined {
    let best: ReaderThread | undefined;
    for (const thread of this.threads) {
      if (!thread.ready || thread.dead || thread.inFlight.size >= BATCHES_PER_WORKER) continue;
      if (!best || thread.inFlight.size < best.inFlight.size) best = thread;
    }
    return best;
  }

  private async readHere(batch: Batch): Promise<void> {
    this.local ??= new BatchReader();
    this.receive(batch.id, await this.local.run(batch.request()));
    this.filesOnMainThread += batch.count;
    this.sinceYield += batch.count;
    // With workers starting, yield after every batch so their "ready" gets through.
    if (this.threads.length > 0 || this.sinceYield >= this.options.yieldEvery) {
      this.sinceYield = 0;
      await new Promise<void>((resolveYield) => setImmediate(resolveYield));
    }
  }

  private receive(id: number, reply: Reply): void {
    this.early.set(id, reply);
    for (;;) {
      const next = this.early.get(this.nextToDeliver);
      if (!next) break;
      const batch = this.unanswered.get(this.nextToDeliver)!;
      this.early.delete(this.nextToDeliver);
      this.unanswered.delete(this.nextToDeliver);
      this.nextToDeliver++;
      this.deliver(batch, next);
    }
  }

  private startThreads(): void {
    this.started = true;
    for (let index = 0; index < this.options.workers; index++) {
      let worker: Worker;
      try {
        worker = startReadWorker();
      } catch {
        // No worker (say, tsx not resolvable from the sources): this thread reads everything, as with workers: 0.
        break;
      }
      const thread: ReaderThread = { worker, ready: false, dead: false, inFlight: new Map() };
      thread.worker.on('message', (message: BatchReply | 'ready') => {
        // After a failure (or once done) nothing more is handed on.
        if (this.closing || this.failure) return;
        if (message === 'ready') {
          thread.ready = true;
        } else {
          thread.inFlight.delete(message.id);
          this.filesByWorkers += message.codes.length;
          try {
            this.receive(message.id, message);
          } catch (error) {
            // onTrial threw: the reading stops and readResults rejects with it.
            this.failure ??= { error };
          }
        }
        this.wake();
      });
      // A worker that fails (it should not) is replaced by this thread: its unanswered batches are read here.
      const lost = (): void => {
        if (thread.dead || this.closing) return;
        thread.dead = true;
        const batches = [...thread.inFlight.values()];
        thread.inFlight.clear();
        this.recovering = this.recovering
          .then(async () => {
            for (const batch of batches) await this.readHere(batch);
          })
          .catch((error: unknown) => {
            this.failure ??= { error };
          })
          .finally(() => this.wake());
        this.wake();
      };
      thread.worker.on('error', lost);
      thread.worker.on('exit', lost);
      this.threads.push(thread);
    }
  }

  private nextEvent(): Promise<void> {
    return new Promise<void>((resolveEvent) => this.waiters.push(resolveEvent));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

/**
 * From compiled JavaScript the worker is read-worker.js next to this file. From the TypeScript
 * sources (tsx, vitest) it is read-worker.ts, and the worker needs tsx's loader: on Node 20, tsx
 * registers itself on the main thread only, so the worker registers it before importing its module.
 */
function startReadWorker(): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  const url = new URL(`./read-worker${extension}`, import.meta.url);
  if (extension !== '.ts') return new Worker(url);
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const bootstrap = `import('node:module').then((module) => { module.register(${JSON.stringify(loader)}, { data: {} }); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}
