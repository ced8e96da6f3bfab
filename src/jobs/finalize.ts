import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { type ReportGroup, writeEvalReports } from '../results/eval-report.js';
import { type TrialResult, trialResultSchema } from '../results/schema.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { type ClaimBook, FINALIZE_CLAIM } from './claims.js';
import { markReportsWritten } from './job-config.js';
import type { SequentialSummary } from './sequential.js';
import { type JobSummary, summarizeResults } from './summary.js';

export interface FinalizeInput {
  jobDir: string;
  jobId: string;
  resultsDir: string;
  /** job.json's: the reports are named after it, so every worker writes the same files. */
  createdAt: string;
  commandLine: string[];
  passThreshold: number;
  /** summary.json's `planned`: the job's trials (`--trials auto`: the most it may still run). */
  planned: number;
  /** The job's trial names in plan order: the results are read from their directories. */
  trials: readonly string[];
  sequential?: SequentialSummary | undefined;
  claims: ClaimBook;
}

export interface FinalizedJob {
  results: TrialResult[];
  summary: JobSummary;
  reportPaths: string[];
  /** False when summary.json and the reports already said this (another worker wrote them). */
  written: boolean;
}

const LOCK_POLL_MS = 50;

/** Results grouped per task × agent × model × arm: one report each. */
function reportGroups(results: readonly TrialResult[]): ReportGroup[] {
  const groups = new Map<string, ReportGroup>();
  for (const r of results) {
    const key = JSON.stringify([r.task, r.agent, r.model ?? '', r.arm]);
    const group = groups.get(key) ?? { task: r.task, agent: r.agent, model: r.model, arm: r.arm, results: [] };
    group.results.push(r);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** Every trial's result.json that parses (any status), in plan order. */
async function resultsOnDisk(jobDir: string, trials: readonly string[]): Promise<TrialResult[]> {
  const results: TrialResult[] = [];
  for (const trial of trials) {
    try {
      const parsed = trialResultSchema.safeParse(
        JSON.parse(await readFile(join(jobDir, trial, 'result.json'), 'utf8')),
      );
      if (parsed.success) results.push(parsed.data);
    } catch {
      // not run (yet), or torn: not part of the summary
    }
  }
  return results;
}

/** summary.json as it is, when it already holds `summary` and lists reports that exist. */
async function upToDate(jobDir: string, summary: JobSummary): Promise<string[] | undefined> {
  try {
    const { reports, ...written } = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    if (!Array.isArray(reports) || !isDeepStrictEqual(written, JSON.parse(JSON.stringify(summary)))) return undefined;
    const paths = reports.map((r) => join(jobDir, String(r)));
    return paths.every((path) => existsSync(path)) ? paths : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The job's summary.json and reports, computed from its trial directories under the job's finalize claim: when
 * several workers end together they take turns, each writes what the directories say, and one that finds the
 * files already saying it writes nothing. Results only ever get added, so the last writer's files are the
 * complete ones.
 */
export async function finalizeJob(input: FinalizeInput): Promise<FinalizedJob> {
  const { claims } = input;
  let attempt = claims.tryClaim(FINALIZE_CLAIM);
  while (!attempt.held) {
    await delay(LOCK_POLL_MS);
    attempt = claims.tryClaim(FINALIZE_CLAIM);
  }
  const { held } = attempt;
  try {
    const results = await resultsOnDisk(input.jobDir, input.trials);
    const counts = summarizeResults(input.jobId, input.planned, results, input.passThreshold);
    const summary: JobSummary = input.sequential ? { ...counts, sequential: input.sequential } : counts;
    const existing = await upToDate(input.jobDir, summary);
    if (existing) return { results, summary, reportPaths: existing, written: false };
    await writeJsonAtomic(join(input.jobDir, 'summary.json'), summary);
    // Named after the job's start: a resumed job rewrites its reports instead of adding new ones.
    const reportPaths = await writeEvalReports({
      resultsDir: input.resultsDir,
      jobDir: input.jobDir,
      createdAt: new Date(input.createdAt),
      commandLine: input.commandLine,
      passThreshold: input.passThreshold,
      groups: reportGroups(results),
    });
    // Written last: a job killed before this point is unfinished, and the same command resumes it (runs nothing
    // more, writes the reports).
    await markReportsWritten(
      input.jobDir,
      reportPaths.map((path) => relative(input.jobDir, path)),
    );
    return { results, summary, reportPaths, written: true };
  } finally {
    claims.release(held, 'done');
  }
}
