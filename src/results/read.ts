import { closeSync, openSync, readSync, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { trialResultSchema, type TrialStatus } from './schema.js';

/**
 * Streams trial results out of result directories: every `result.json` of schema
 * `skill-eval/trial-result@1`, and the original skill-eval's `EvalReport` JSON files (for migration).
 * Each trial is handed to a callback as soon as its file is read, so nothing holds all results at once.
 */

export type Arm = 'with-skills' | 'no-skills';

export const LEGACY_AGENT = 'unknown (legacy)';

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
}

export interface ReadOptions {
  /** Files read between two yields to the event loop (keeps signals and timers alive on huge trees). */
  yieldEvery?: number | undefined;
}

const TRIAL_RESULT_FILE = 'result.json';
const TRIAL_SCHEMA = 'skill-eval/trial-result@1';
/** Directories never searched: VCS metadata, dependencies, hidden caches. */
const SKIPPED_DIRECTORY = /^(?:\.|node_modules$)/;
/** Directory listings started before their turn (bounded: each holds a whole listing in memory). */
const LISTINGS_AHEAD = 3;

const legacyTrialSchema = z.looseObject({
  trial_id: z.union([z.number(), z.string()]),
  reward: z.number(),
  duration_ms: z.number().optional(),
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
});

/** The original skill-eval's EvalReport (one per task × skills on/off run). */
const legacyReportSchema = z.looseObject({
  task: z.string().min(1),
  pass_rate: z.number(),
  trials: z.array(legacyTrialSchema),
  skills_used: z.array(z.string()).default([]),
});

/**
 * Directories are listed asynchronously and walked one at a time; files are read synchronously into
 * one reused buffer. Measured on 100,000 small result files, a synchronous open/read/close costs a
 * fifth of what the thread-pool round trips of fs.promises.readFile cost, and reading is the bulk of
 * the analysis. Each file is parsed, validated and handed on before the next is read, so memory holds
 * one file at a time plus the accumulators.
 */
export async function readResults(
  dirs: readonly string[],
  onTrial: (record: TrialRecord) => void,
  options: ReadOptions = {},
): Promise<ReadSummary> {
  const yieldEvery = options.yieldEvery ?? 1024;
  const searched = [...new Set(dirs.map((dir) => resolve(dir)))];
  // A root inside another root would be read twice: search only the outermost.
  const roots = searched.filter((dir) => !searched.some((other) => other !== dir && dir.startsWith(other.endsWith(sep) ? other : `${other}${sep}`)));
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
  const reader = new ScratchReader();
  let readsSinceYield = 0;

  const emit = (record: TrialRecord): void => {
    if (seenTrialIds.has(record.trialId)) {
      summary.duplicateTrials++;
      return;
    }
    seenTrialIds.add(record.trialId);
    onTrial(record);
  };

  const handleJson = (file: string, parsed: ParsedFile, isTrialFile: boolean): void => {
    summary.filesRead++;
    if (!parsed.ok) {
      summary.problems.push({ file, reason: `not valid JSON (${parsed.reason})` });
      return;
    }
    const data = parsed.data;
    const outcome = classify(file, data, isTrialFile);
    switch (outcome.kind) {
      case 'trial':
        summary.trialResults++;
        emit(outcome.record);
        break;
      case 'legacy':
        summary.legacyReports++;
        summary.legacyTrials += outcome.records.length;
        for (const record of outcome.records) emit(record);
        break;
      case 'report':
        summary.skippedReportFiles++;
        break;
      case 'ignored':
        summary.ignoredFiles++;
        break;
      case 'problem':
        summary.problems.push({ file, reason: outcome.reason });
        break;
    }
  };

  /** Reads and handles one file; `missing` when it does not exist (so the caller can list the directory instead). */
  const readJsonFile = (file: string, isTrialFile: boolean, missingIsExpected: boolean): 'read' | 'missing' => {
    let parsed: ParsedFile;
    try {
      parsed = reader.readJson(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (missingIsExpected && (code === 'ENOENT' || code === 'ENOTDIR')) return 'missing';
      summary.problems.push({ file, reason: `cannot read (${errorMessage(error)})` });
      return 'read';
    }
    handleJson(file, parsed, isTrialFile);
    return 'read';
  };

  const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolveYield) => setImmediate(resolveYield));

  const list = (dir: string): Promise<Dirent[] | Error> =>
    readdir(dir, { withFileTypes: true }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));

  // Symbolic links are not followed (a Dirent of a link is neither file nor directory), so no cycles.
  const visitDirectory = async (dir: string, listing: Promise<Dirent[] | Error> = list(dir)): Promise<void> => {
    const entries = await listing;
    if (entries instanceof Error) {
      summary.problems.push({ file: dir, reason: `cannot list (${entries.message})` });
      return;
    }
    // A directory holding result.json is a trial directory: its agent/verifier/artifacts trees are not ours to read.
    if (entries.some((entry) => entry.name === TRIAL_RESULT_FILE && entry.isFile())) {
      readJsonFile(`${dir}${sep}${TRIAL_RESULT_FILE}`, true, false);
      return;
    }
    const subdirectories: string[] = [];
    for (const entry of entries) {
      if (SKIPPED_DIRECTORY.test(entry.name)) continue;
      // Plain concatenation: `dir` is already absolute and normalized, and path.join costs 2 µs a call.
      const path = `${dir}${sep}${entry.name}`;
      if (entry.isDirectory()) {
        // Most subdirectories of a job are trial directories: try their result.json before listing them.
        if (readJsonFile(`${path}${sep}${TRIAL_RESULT_FILE}`, true, true) === 'missing') subdirectories.push(path);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        readJsonFile(path, false, false);
      } else {
        continue;
      }
      // An await per file would cost a microtask hop each; yield only every so often.
      if (++readsSinceYield >= yieldEvery) {
        readsSinceYield = 0;
        await yieldToEventLoop();
      }
    }
    // The next few listings run in the thread pool while this thread reads the files of the current one.
    const listings: Array<Promise<Dirent[] | Error> | undefined> = [];
    for (let index = 0; index < subdirectories.length; index++) {
      for (let ahead = index; ahead < Math.min(subdirectories.length, index + LISTINGS_AHEAD); ahead++) listings[ahead] ??= list(subdirectories[ahead]!);
      await visitDirectory(subdirectories[index]!, listings[index]);
      listings[index] = undefined;
    }
  };

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
    else readJsonFile(root, basename(root) === TRIAL_RESULT_FILE, false);
  }
  // Problems in a stable order, whatever order the directories listed in.
  summary.problems.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
  return summary;
}

type ParsedFile = { ok: true; data: unknown } | { ok: false; reason: string };

/**
 * Synchronous reads into one reused buffer: no per-file allocation, no fstat. One read() usually
 * returns the whole file; if its text parses, it was the whole file (a strict prefix of a JSON object
 * is never valid JSON), which saves the second read() that would only confirm the end of the file.
 */
class ScratchReader {
  private buffer = Buffer.allocUnsafe(256 * 1024);

  /** Throws only I/O errors; a file that is not JSON comes back as `ok: false`. */
  readJson(path: string): ParsedFile {
    const fd = openSync(path, 'r');
    try {
      let length = readSync(fd, this.buffer, 0, this.buffer.length, null);
      if (length > 0 && length < this.buffer.length) {
        try {
          return { ok: true, data: JSON.parse(this.buffer.toString('utf8', 0, length)) };
        } catch {
          // A short read of a longer file, or not JSON: read to the end and decide then.
        }
      }
      for (;;) {
        if (length === this.buffer.length) {
          const larger = Buffer.allocUnsafe(this.buffer.length * 2);
          this.buffer.copy(larger, 0, 0, length);
          this.buffer = larger;
        }
        const count = readSync(fd, this.buffer, length, this.buffer.length - length, null);
        if (count === 0) break;
        length += count;
      }
      try {
        return { ok: true, data: JSON.parse(this.buffer.toString('utf8', 0, length)) };
      } catch (error) {
        return { ok: false, reason: errorMessage(error) };
      }
    } finally {
      closeSync(fd);
    }
  }
}

type Classified =
  | { kind: 'trial'; record: TrialRecord }
  | { kind: 'legacy'; records: TrialRecord[] }
  | { kind: 'report' }
  | { kind: 'ignored' }
  | { kind: 'problem'; reason: string };

function classify(file: string, data: unknown, isTrialFile: boolean): Classified {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return isTrialFile ? { kind: 'problem', reason: 'not a JSON object' } : { kind: 'ignored' };
  }
  const object = data as Record<string, unknown>;
  if (object.schema === TRIAL_SCHEMA) return parseTrialResult(file, object);
  if (typeof object.schema === 'string' && object.schema.startsWith('skill-eval/trial-result@')) {
    return { kind: 'problem', reason: `unsupported schema ${object.schema} (this version reads ${TRIAL_SCHEMA})` };
  }
  if ('skill_eval_version' in object) return { kind: 'report' };
  if (typeof object.task === 'string' && Array.isArray(object.trials) && 'pass_rate' in object) return parseLegacyReport(file, object);
  return isTrialFile ? { kind: 'problem', reason: `no "schema": "${TRIAL_SCHEMA}" field: not a skill-eval trial result` } : { kind: 'ignored' };
}

function parseTrialResult(file: string, data: Record<string, unknown>): Classified {
  const parsed = trialResultSchema.safeParse(data);
  if (!parsed.success) return { kind: 'problem', reason: `invalid trial result: ${describeIssues(parsed.error)}` };
  const result = parsed.data;
  const usage = result.usage;
  return {
    kind: 'trial',
    record: {
      source: 'trial-result',
      file,
      trialId: result.trial_id,
      trialName: result.trial_name,
      task: result.task,
      agent: result.agent,
      model: result.model,
      arm: result.arm,
      status: result.status,
      reward: result.reward,
      durationMs: result.timings.total_ms,
      tokens: usage === undefined ? undefined : usage.inputTokens + usage.outputTokens,
      skillsActivated: result.skills_activated,
      errorMessage: result.error?.message,
    },
  };
}

function parseLegacyReport(file: string, data: Record<string, unknown>): Classified {
  const parsed = legacyReportSchema.safeParse(data);
  if (!parsed.success) return { kind: 'problem', reason: `invalid EvalReport: ${describeIssues(parsed.error)}` };
  const report = parsed.data;
  const arm: Arm = report.skills_used.length > 0 ? 'with-skills' : 'no-skills';
  const records = report.trials.map((trial, index): TrialRecord => {
    const tokens = trial.input_tokens === undefined && trial.output_tokens === undefined ? undefined : (trial.input_tokens ?? 0) + (trial.output_tokens ?? 0);
    return {
      source: 'legacy-report',
      file,
      // Legacy trial ids restart at 1 in every report: the file makes them unique.
      trialId: `${file}#${index}`,
      trialName: `${report.task}__${arm}__${String(trial.trial_id)}`,
      task: report.task,
      agent: LEGACY_AGENT,
      model: undefined,
      arm,
      // The original had no statuses: every trial it recorded was verified. Pass/fail is decided
      // from the reward at analysis time; this status only says "a model outcome, not an error".
      status: trial.reward >= 1 ? 'passed' : 'failed',
      reward: trial.reward,
      durationMs: trial.duration_ms,
      tokens,
      skillsActivated: undefined,
      errorMessage: undefined,
    };
  });
  return { kind: 'legacy', records };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
