import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { z } from 'zod';
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
  /** Files and directories read at once. */
  concurrency?: number | undefined;
}

const TRIAL_RESULT_FILE = 'result.json';
const TRIAL_SCHEMA = 'skill-eval/trial-result@1';
/** Directories never searched: VCS metadata, dependencies, hidden caches. */
const SKIPPED_DIRECTORY = /^(?:\.|node_modules$)/;
/** Children of one directory visited at once; bounds the queued work in a directory of 100,000 trials. */
const DIRECTORY_WINDOW = 256;

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

export async function readResults(
  dirs: readonly string[],
  onTrial: (record: TrialRecord) => void,
  options: ReadOptions = {},
): Promise<ReadSummary> {
  const limit = pLimit(options.concurrency ?? 64);
  const searched = [...new Set(dirs.map((dir) => resolve(dir)))];
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
  const visitedDirectories = new Set<string>();

  const emit = (record: TrialRecord): void => {
    if (seenTrialIds.has(record.trialId)) {
      summary.duplicateTrials++;
      return;
    }
    seenTrialIds.add(record.trialId);
    onTrial(record);
  };

  const handleJson = (file: string, text: string, isTrialFile: boolean): void => {
    summary.filesRead++;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      summary.problems.push({ file, reason: `not valid JSON (${(error as Error).message})` });
      return;
    }
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

  /** Reads `dir/result.json` if there is one: a directory holding it is a trial directory, not descended into. */
  const tryTrialDirectory = async (dir: string): Promise<boolean> => {
    const file = join(dir, TRIAL_RESULT_FILE);
    let text: string;
    try {
      text = await limit(() => readFile(file, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      summary.problems.push({ file, reason: `cannot read (${(error as Error).message})` });
      return true;
    }
    handleJson(file, text, true);
    return true;
  };

  const visitDirectory = async (dir: string, isRoot: boolean): Promise<void> => {
    if (visitedDirectories.has(dir)) return;
    visitedDirectories.add(dir);
    if (await tryTrialDirectory(dir)) return;
    let entries;
    try {
      entries = await limit(() => readdir(dir, { withFileTypes: true }));
    } catch (error) {
      const reason = `cannot list (${(error as Error).message})`;
      summary.problems.push({ file: dir, reason });
      if (isRoot && (error as NodeJS.ErrnoException).code === 'ENOTDIR') await readLooseFile(dir);
      return;
    }
    const children: Array<() => Promise<void>> = [];
    for (const entry of entries) {
      if (SKIPPED_DIRECTORY.test(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) children.push(() => visitDirectory(path, false));
      else if (entry.isFile() && entry.name.endsWith('.json')) children.push(() => readLooseFile(path));
    }
    for (let start = 0; start < children.length; start += DIRECTORY_WINDOW) {
      await Promise.all(children.slice(start, start + DIRECTORY_WINDOW).map((visit) => visit()));
    }
  };

  /** A JSON file outside a trial directory: a legacy EvalReport, one of our per-task reports, or something else. */
  const readLooseFile = async (file: string): Promise<void> => {
    let text: string;
    try {
      text = await limit(() => readFile(file, 'utf8'));
    } catch (error) {
      summary.problems.push({ file, reason: `cannot read (${(error as Error).message})` });
      return;
    }
    handleJson(file, text, false);
  };

  await Promise.all(
    searched.map(async (dir) => {
      if (dir.endsWith('.json')) {
        // A file named on the command line is read as it is.
        summary.problems.length; // keep linters calm about an empty branch
        await readLooseFile(dir);
        return;
      }
      await visitDirectory(dir, true);
    }),
  );
  // The summary's problem list in a stable order, whatever the I/O interleaving was.
  summary.problems.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
  return summary;
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
  if ('task' in object && 'trials' in object) return parseLegacyReport(file, object);
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
      // The original had no statuses: every trial it recorded was verified.
      status: 'failed',
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
