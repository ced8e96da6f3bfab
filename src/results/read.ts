import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import { type FileOutcome, type FileRole, LEGACY_AGENT, readResultFile, TRIAL_RESULT_FILE } from './read-file.js';
import type { TrialRecord } from './record.js';

/**
 * Streams trial results out of result directories: every `result.json` of schema
 * `skill-eval/trial-result@1`, and the original skill-eval's `EvalReport` JSON files (for migration).
 * Each trial is handed to a callback as soon as its file is read, so nothing holds all results at once.
 */

export type { Arm, TrialRecord } from './record.js';
export { LEGACY_AGENT };

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

/**
 * A job directory's regrades (`skill-eval regrade`: `<job>/regrades/<stamp>/`) hold the job's trials once more,
 * verified again: searched only when named (`analyze <job>/regrades/<stamp>`), never as part of their job.
 */
export const REGRADES_DIR = 'regrades';

/** A job directory's trial claims (src/jobs/claims.ts, docs/scale.md): bookkeeping, no results; never searched. */
export const CLAIMS_DIR = 'claims';

/** Directories never searched: VCS metadata, dependencies, hidden caches. */
const SKIPPED_DIRECTORY = /^(?:\.|node_modules$)/;

/**
 * Directories are listed asynchronously and depth first, each in listing order; files are read
 * synchronously, one after the other (bench/analyze: 100,000 results in about 1.5 s of CPU), so the
 * records, and so the report, come in the same order on every run.
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
  const walk = new ResultsWalk(searched, onTrial, options.yieldEvery ?? 1024);
  for (const root of roots) await walk.root(root);
  return walk.finish();
}

class ResultsWalk {
  private readonly summary: ReadSummary;
  private readonly seenTrialIds = new Set<string>();
  private sinceYield = 0;

  constructor(
    searched: string[],
    private readonly onTrial: (record: TrialRecord) => void,
    private readonly yieldEvery: number,
  ) {
    this.summary = {
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
  }

  /** A file named on the command line is read as it is; a directory is searched. */
  async root(root: string): Promise<void> {
    let isFile: boolean;
    try {
      isFile = (await stat(root)).isFile();
    } catch (error) {
      this.summary.problems.push({ file: root, reason: `cannot open (${errorMessage(error)})` });
      return;
    }
    if (isFile) await this.file(root, basename(root) === TRIAL_RESULT_FILE ? 'trial' : 'json');
    else await this.directory(root);
  }

  finish(): ReadSummary {
    // Problems in a stable order, whatever order the directories listed in.
    this.summary.problems.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
    return this.summary;
  }

  /** Symbolic links are not followed (a Dirent of a link is neither file nor directory), so no cycles. */
  private async directory(dir: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      this.summary.problems.push({ file: dir, reason: `cannot list (${errorMessage(error)})` });
      return;
    }
    // A directory holding result.json is a trial directory: its agent/verifier/artifacts trees are not ours to read.
    if (entries.some((entry) => entry.name === TRIAL_RESULT_FILE && entry.isFile())) {
      await this.file(`${dir}${sep}${TRIAL_RESULT_FILE}`, 'trial');
      return;
    }
    const unlisted: string[] = [];
    const jobDir = entries.some((entry) => entry.name === 'job.json' && entry.isFile());
    for (const entry of entries) {
      if (SKIPPED_DIRECTORY.test(entry.name) || (jobDir && (entry.name === REGRADES_DIR || entry.name === CLAIMS_DIR)))
        continue;
      const path = `${dir}${sep}${entry.name}`;
      // Most subdirectories of a job are trial directories: their result.json is tried before listing them.
      if (entry.isDirectory()) {
        if (!(await this.file(`${path}${sep}${TRIAL_RESULT_FILE}`, 'probe'))) unlisted.push(path);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        await this.file(path, 'json');
      }
    }
    for (const subdirectory of unlisted) await this.directory(subdirectory);
  }

  /** Reads and counts one file; false when a probed directory has no result.json. */
  private async file(file: string, role: FileRole): Promise<boolean> {
    const outcome = readResultFile(file, role);
    if (++this.sinceYield >= this.yieldEvery) {
      this.sinceYield = 0;
      await nextTurn();
    }
    if (outcome.kind === 'missing') return false;
    this.count(file, outcome);
    return true;
  }

  private count(file: string, outcome: Exclude<FileOutcome, { kind: 'missing' }>): void {
    const summary = this.summary;
    if (outcome.kind !== 'unreadable') summary.filesRead++;
    switch (outcome.kind) {
      case 'trial':
        summary.trialResults++;
        this.emit(outcome.record);
        break;
      case 'legacy':
        summary.legacyReports++;
        summary.legacyTrials += outcome.records.length;
        for (const record of outcome.records) this.emit(record);
        break;
      case 'report':
        summary.skippedReportFiles++;
        break;
      case 'ignored':
        summary.ignoredFiles++;
        break;
      case 'problem':
      case 'unreadable':
        summary.problems.push({ file, reason: outcome.reason });
        break;
    }
  }

  private emit(record: TrialRecord): void {
    if (this.seenTrialIds.has(record.trialId)) {
      this.summary.duplicateTrials++;
      return;
    }
    this.seenTrialIds.add(record.trialId);
    this.onTrial(record);
  }
}
