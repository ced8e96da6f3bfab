import { closeSync, type Dirent, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AnalysisAccumulator, type AnalysisSettings } from '../analytics/aggregate.js';
import { DEFAULT_CORRECTION } from '../analytics/multiplicity.js';
import type { AnalysisReport } from '../analytics/report.js';
import { readResultFile, TRIAL_RESULT_FILE } from '../results/read-file.js';
import type { TrialRecord } from '../results/record.js';
import type { TrialResult } from '../results/schema.js';
import { sessionEntries } from '../util/session-log.js';
import { readJson } from './files.js';
import type { JobKind, JobListEntry, JobView, TrialRow } from './model.js';
import { VIEW_SCHEMA } from './model.js';

/**
 * One job as the viewer sees it, kept up to date by polling its directory (not fs.watch: a job written over NFS,
 * or by a container, raises no events): new trial directories appear as `running`, with the phase their session
 * log is in, and become finished rows when their result.json lands. A finished trial's file is not read again.
 */

/** `skill-eval analyze`'s defaults: the grid shows the numbers `analyze DIR --json` prints. */
export const VIEW_ANALYSIS: AnalysisSettings = {
  passThreshold: 1,
  includeErrorsAsFailures: false,
  includeContaminated: false,
  k: [1, 3, 5],
  correction: DEFAULT_CORRECTION,
};

/** The shortest time between two scans of one job's directory. */
export const RESCAN_MS = 1000;
const TAIL_BYTES = 64 * 1024;
const COUNTED_OUT = new Set(['infra_error', 'verifier_error']);

interface TrialState {
  row: TrialRow;
  record?: TrialRecord | undefined;
  /** result.json's mtime when read (a resumed job may run an errored trial again). */
  resultMtime?: number | undefined;
  sessionSize?: number | undefined;
  startedAt?: string | undefined;
}

export interface JobSource {
  key: string;
  kind: JobKind;
  dir: string;
  /** Original reports: the files of this directory. */
  legacyFiles?: string[] | undefined;
}

export class JobStore {
  private readonly trials = new Map<string, TrialState>();
  private job: Record<string, unknown> | undefined;
  private summary: Record<string, unknown> | undefined;
  private scannedAt = Number.NEGATIVE_INFINITY;
  private changes = 0;
  private view: JobView | undefined;
  private complete = false;
  private summaryMtime: number | undefined;
  private json: { version: string; text: string } | undefined;
  readonly problems: Array<{ file: string; reason: string }> = [];

  constructor(readonly source: JobSource) {}

  /** Scans the directory when the last scan is older than RESCAN_MS (or when forced); true when anything changed. */
  refresh(force = false): boolean {
    const now = performance.now();
    if (!force && now - this.scannedAt < RESCAN_MS) return false;
    this.scannedAt = now;
    // A finished job is read again only when its summary changes (the same eval command resumed it).
    const summaryMtime = mtimeOf(join(this.source.dir, 'summary.json'));
    if (!force && this.complete && summaryMtime === this.summaryMtime) return false;
    this.summaryMtime = summaryMtime;
    const before = this.changes;
    if (this.source.kind === 'legacy') this.scanLegacy();
    else this.scanTrials();
    if (this.changes !== before) this.view = undefined;
    return this.changes !== before;
  }

  entry(): JobListEntry {
    this.refresh();
    const rows = [...this.trials.values()].map((state) => state.row);
    const passRates: JobListEntry['passRates'] = {};
    let errors = 0;
    for (const row of rows) {
      if (row.status === 'running') continue;
      if (COUNTED_OUT.has(row.status)) {
        errors++;
        continue;
      }
      passRates[row.arm] ??= { passed: 0, counted: 0 };
      const rate = passRates[row.arm]!;
      rate.counted++;
      if (row.reward !== undefined && row.reward >= VIEW_ANALYSIS.passThreshold) rate.passed++;
    }
    const job = this.job;
    const tasks = job ? (job.tasks as Array<{ name: string }>).map((task) => task.name) : unique(rows, (r) => r.task);
    const configs = job
      ? (job.agents as Array<{ name: string; model?: string }>).map((a) => configLabel(a.name, a.model))
      : unique(rows, (r) => configLabel(r.agent, r.model));
    return {
      key: this.source.key,
      kind: this.source.kind,
      dir: this.source.dir,
      jobId: typeof job?.job_id === 'string' ? job.job_id : undefined,
      createdAt: typeof job?.created_at === 'string' ? job.created_at : firstStart(this.trials),
      tasks,
      configs,
      arms: job ? (job.arms as string[]) : unique(rows, (r) => r.arm),
      planned: typeof this.summary?.planned === 'number' ? this.summary.planned : plannedOf(job),
      finished: rows.filter((row) => row.status !== 'running').length,
      running: rows.filter((row) => row.status === 'running').length,
      passRates,
      errors,
      complete: this.complete,
    };
  }

  /** The job page's data: the statistics (as analyze computes them) and every trial's row. */
  jobView(): JobView {
    this.refresh();
    if (this.view) return this.view;
    const records = [...this.trials.values()].flatMap((state) => (state.record ? [state.record] : []));
    const rows = [...this.trials.values()].map((state) => state.row).sort(byTrial);
    this.view = {
      schema: VIEW_SCHEMA,
      entry: this.entry(),
      job: this.job,
      report: analyze(this.source.dir, records, this.source.kind === 'legacy'),
      trials: rows,
      version: String(this.changes),
    };
    return this.view;
  }

  /** The job view as JSON text, serialised once per version (a 10,000-trial job is megabytes). */
  jobJson(): string {
    const view = this.jobView();
    if (this.json?.version !== view.version) this.json = { version: view.version, text: JSON.stringify(view) };
    return this.json.text;
  }

  version(): string {
    this.refresh();
    return String(this.changes);
  }

  /** The trial's directory (absent for original reports, whose trials have none) and its row. */
  trial(name: string): { dir?: string | undefined; row: TrialRow; record?: TrialRecord | undefined } | undefined {
    this.refresh();
    const state = this.trials.get(name);
    if (!state) return undefined;
    return {
      dir: this.source.kind === 'legacy' ? undefined : join(this.source.dir, name),
      row: state.row,
      record: state.record,
    };
  }

  trialNames(): string[] {
    this.refresh();
    return [...this.trials.keys()];
  }

  private scanTrials(): void {
    const dir = this.source.dir;
    if (this.source.kind === 'job') {
      this.job ??= readJson(join(dir, 'job.json'));
      const summary = readJson(join(dir, 'summary.json'));
      if (summary && JSON.stringify(summary) !== JSON.stringify(this.summary)) {
        this.summary = summary;
        this.changes++;
      }
    }
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      this.problems.push({ file: dir, reason: `cannot list (${(error as Error).message})` });
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'regrades') continue;
      this.scanTrial(entry.name);
    }
    const summary = this.summary;
    const finished = [...this.trials.values()].every((state) => state.row.status !== 'running');
    // A job is done when its summary lists the reports (run-job writes them last) and no trial is left running.
    this.complete = this.source.kind === 'job' && summary !== undefined && Array.isArray(summary.reports) && finished;
  }

  private scanTrial(name: string): void {
    const trialDir = join(this.source.dir, name);
    const state = this.trials.get(name);
    // A result is final, except an infrastructure error's: resuming the job runs that trial again.
    if (state?.record && state.row.status !== 'infra_error') return;
    const resultPath = join(trialDir, TRIAL_RESULT_FILE);
    const mtime = mtimeOf(resultPath);
    if (state?.record && state.resultMtime === mtime) return;
    if (mtime !== undefined) {
      const outcome = readResultFile(resultPath, 'probe');
      if (outcome.kind === 'trial') {
        this.trials.set(name, {
          row: finishedRow(name, outcome.result),
          record: outcome.record,
          resultMtime: mtime,
          startedAt: outcome.result.timings.started_at,
        });
        this.changes++;
        return;
      }
      if (outcome.kind === 'problem' && !this.problems.some((problem) => problem.file === resultPath))
        this.problems.push({ file: resultPath, reason: outcome.reason });
    }
    this.scanRunning(name, trialDir, state);
  }

  /** A trial directory without a (readable) result: its config.json says what it is, its log how far it got. */
  private scanRunning(name: string, trialDir: string, state: TrialState | undefined): void {
    let size: number;
    try {
      size = statSync(join(trialDir, 'session.jsonl')).size;
    } catch {
      size = 0;
    }
    if (state && state.sessionSize === size) return;
    const config = state ? undefined : readJson(join(trialDir, 'config.json'));
    if (!state && !config) return; // not a trial directory (yet)
    const row: TrialRow = state
      ? { ...state.row }
      : {
          name,
          task: String(config!.task ?? name),
          agent: String(config!.agent ?? ''),
          model: typeof config!.model === 'string' ? config!.model : undefined,
          arm: String(config!.arm ?? ''),
          status: 'running',
          index: typeof config!.trial_index === 'number' ? config!.trial_index : undefined,
        };
    row.phase = currentPhase(join(trialDir, 'session.jsonl'), size);
    this.trials.set(name, { row, sessionSize: size });
    this.changes++;
  }

  private scanLegacy(): void {
    if (this.trials.size > 0) return;
    for (const file of this.source.legacyFiles ?? []) {
      const outcome = readResultFile(file, 'json');
      if (outcome.kind !== 'legacy') continue;
      for (const record of outcome.records) {
        this.trials.set(record.trialName, { record, row: legacyRow(record) });
      }
    }
    this.complete = true;
    this.changes++;
  }
}

function analyze(dir: string, records: readonly TrialRecord[], legacy: boolean): AnalysisReport {
  const accumulator = new AnalysisAccumulator(VIEW_ANALYSIS);
  for (const record of records) accumulator.add(record);
  return accumulator.finish({
    searched: [dir],
    filesRead: legacy ? new Set(records.map((r) => r.file)).size : records.length,
    trialResults: legacy ? 0 : records.length,
    legacyReports: legacy ? new Set(records.map((r) => r.file)).size : 0,
    legacyTrials: legacy ? records.length : 0,
    skippedReportFiles: 0,
    ignoredFiles: 0,
    duplicateTrials: 0,
    problems: [],
  });
}

function finishedRow(name: string, result: TrialResult): TrialRow {
  const usage = result.usage;
  const opened =
    (result.skills_activated?.length ?? 0) > 0 || result.isolation?.skills.some((skill) => skill.opened) === true;
  return {
    name,
    task: result.task,
    agent: result.agent,
    model: result.model,
    arm: result.arm,
    status: result.status,
    reward: result.reward,
    durationMs: result.timings.total_ms,
    tokens: usage === undefined ? undefined : usage.inputTokens + usage.outputTokens,
    costUsd: usage?.costUsd,
    steps: result.agent_result ? result.agent_result.commands + result.agent_result.tool_calls : undefined,
    skillOpened: result.arm === 'with-skills' ? opened : undefined,
    error: result.error?.message,
    index: result.trial_index,
  };
}

function legacyRow(record: TrialRecord): TrialRow {
  return {
    name: record.trialName,
    task: record.task,
    agent: record.agent,
    arm: record.arm,
    status: record.status,
    reward: record.reward,
    durationMs: record.durationMs,
    tokens: record.tokens,
  };
}

/** The phase whose `start` is the log's last phase entry; `starting` before any. */
export function currentPhase(path: string, size: number): string {
  if (size === 0) return 'starting';
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readSync(fd, buffer, 0, length, size - length);
  } catch {
    return 'starting';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const entries = sessionEntries(buffer.toString('utf8'));
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.type !== 'phase') continue;
    return entry.state === 'start' ? String(entry.phase) : `after ${String(entry.phase)}`;
  }
  return 'starting';
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Task, agent, model, arm, index: the order of the trial list (plain comparisons: 10,000 rows sort in a blink). */
function byTrial(a: TrialRow, b: TrialRow): number {
  const keys = (row: TrialRow): Array<string | number> => [
    row.task,
    row.agent,
    row.model ?? '',
    row.arm,
    row.index ?? 0,
    row.name,
  ];
  const x = keys(a);
  const y = keys(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

export function configLabel(agent: string, model: string | undefined): string {
  return model ? `${agent} · ${model}` : agent;
}

function unique(rows: readonly TrialRow[], pick: (row: TrialRow) => string): string[] {
  return [...new Set(rows.map(pick))].sort();
}

function plannedOf(job: Record<string, unknown> | undefined): number | undefined {
  if (!job) return undefined;
  const count = (key: string): number => (Array.isArray(job[key]) ? (job[key] as unknown[]).length : 0);
  return typeof job.trials === 'number' ? count('tasks') * count('agents') * count('arms') * job.trials : undefined;
}

function firstStart(trials: ReadonlyMap<string, TrialState>): string | undefined {
  let first: string | undefined;
  for (const state of trials.values()) {
    const at = state.startedAt;
    if (at !== undefined && (first === undefined || at < first)) first = at;
  }
  return first;
}
