import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { REGRADES_DIR } from '../results/read.js';
import { readResultFile, TRIAL_RESULT_FILE } from '../results/read-file.js';
import { type JobSource, JobStore } from './job-store.js';
import { type JobsView, VIEW_SCHEMA } from './model.js';
import { inside } from './path-guard.js';
import { type RunSource, RunStore } from './run-store.js';

/**
 * The jobs under the directories `view` was given: job directories (job.json), directories of trial directories
 * without one (a regrade, a copied set of trials), and directories holding the original skill-eval's reports.
 * Benchmark target runs are found on the way: a directory with rollout.json, or with target.json and
 * hints_used.json (what a run's setup writes before its rollout ends).
 * Searched again at most every RESCAN_MS, so a job started after the viewer shows up in the list.
 */

const MAX_DEPTH = 4;
const SKIPPED = /^(?:\.|node_modules$)/;
export const CATALOG_RESCAN_MS = 2000;

export class Catalog {
  readonly roots: string[];
  private readonly stores = new Map<string, JobStore>();
  private readonly byDir = new Map<string, JobStore>();
  private readonly runStores = new Map<string, RunStore>();
  private readonly runDirs = new Set<string>();
  private scannedAt = Number.NEGATIVE_INFINITY;
  private problems: Array<{ file: string; reason: string }> = [];
  private readonly classified = new Map<string, { mtime: number; legacy: boolean }>();

  constructor(roots: readonly string[]) {
    this.roots = [...new Set(roots.map((root) => resolve(root)))];
  }

  /** Searches the roots when the last search is older than CATALOG_RESCAN_MS (or when forced). */
  refresh(force = false): void {
    const now = performance.now();
    if (!force && now - this.scannedAt < CATALOG_RESCAN_MS) return;
    this.scannedAt = now;
    this.problems = [];
    const runs: RunSource[] = [];
    for (const source of this.discover(runs)) {
      if (this.byDir.has(source.dir)) continue;
      const key = this.uniqueKey(source.key, this.stores);
      const store = new JobStore({ ...source, key });
      this.stores.set(key, store);
      this.byDir.set(source.dir, store);
    }
    for (const source of runs) {
      if (this.runDirs.has(source.dir)) continue;
      const key = this.uniqueKey(source.key, this.runStores);
      this.runStores.set(key, new RunStore({ ...source, key }));
      this.runDirs.add(source.dir);
    }
  }

  jobs(): JobsView {
    this.refresh();
    const entries = [...this.stores.values()].map((store) => store.entry());
    entries.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.key.localeCompare(b.key));
    const runs = [...this.runStores.values()].map((store) => store.entry());
    runs.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.key.localeCompare(b.key));
    return {
      schema: VIEW_SCHEMA,
      generatedAt: new Date().toISOString(),
      roots: this.roots,
      jobs: entries,
      runs,
      problems: [...this.problems, ...[...this.stores.values()].flatMap((store) => store.problems)],
    };
  }

  job(key: string): JobStore | undefined {
    this.refresh();
    return this.stores.get(key);
  }

  run(key: string): RunStore | undefined {
    this.refresh();
    return this.runStores.get(key);
  }

  allRuns(): RunStore[] {
    this.refresh();
    return [...this.runStores.values()];
  }

  all(): JobStore[] {
    this.refresh();
    return [...this.stores.values()];
  }

  /** The root a path is under (the server serves files only there). */
  rootOf(path: string): string | undefined {
    return this.roots.find((root) => inside(root, path));
  }

  private uniqueKey(wanted: string, taken: Map<string, unknown>): string {
    const base = wanted.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'job';
    let key = base;
    for (let n = 2; taken.has(key); n++) key = `${base}-${n}`;
    return key;
  }

  /** Jobs are returned; benchmark runs found on the way are added to `runs`. */
  private discover(runs: RunSource[]): JobSource[] {
    const found: JobSource[] = [];
    for (const root of this.roots) {
      let isFile = false;
      try {
        isFile = statSync(root).isFile();
      } catch (error) {
        this.problems.push({ file: root, reason: `cannot open (${(error as Error).message})` });
        continue;
      }
      if (isFile) {
        if (this.isLegacyReport(root))
          found.push({
            key: `reports-${basename(dirname(root))}`,
            kind: 'legacy',
            dir: dirname(root),
            legacyFiles: [root],
          });
      } else this.walk(root, 0, found, runs);
    }
    return found;
  }

  private walk(dir: string, depth: number, found: JobSource[], runs: RunSource[]): void {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      this.problems.push({ file: dir, reason: `cannot list (${(error as Error).message})` });
      return;
    }
    const names = new Set(entries.map((entry) => entry.name));
    if (names.has('job.json')) {
      found.push({ key: basename(dir), kind: 'job', dir });
      // A job's regrades are shaped like jobs: each is listed on its own.
      if (names.has(REGRADES_DIR)) this.regrades(join(dir, REGRADES_DIR), found);
      return;
    }
    if (names.has('rollout.json') || (names.has('target.json') && names.has('hints_used.json'))) {
      runs.push({ key: runKey(dir), dir });
      return;
    }
    const subdirs = entries.filter((entry) => entry.isDirectory() && !SKIPPED.test(entry.name));
    const trialDirs = subdirs.filter((entry) => isTrialDir(join(dir, entry.name)));
    if (trialDirs.length > 0) found.push({ key: basename(dir), kind: 'trials', dir });
    const legacy = entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
      .map((entry) => join(dir, entry.name))
      .filter((file) => this.isLegacyReport(file));
    if (legacy.length > 0) found.push({ key: `reports-${basename(dir)}`, kind: 'legacy', dir, legacyFiles: legacy });
    if (depth >= MAX_DEPTH) return;
    for (const entry of subdirs) {
      if (trialDirs.includes(entry)) continue;
      this.walk(join(dir, entry.name), depth + 1, found, runs);
    }
  }

  /** Whether a JSON file is an original skill-eval report; each file is read once per change, not every search. */
  private isLegacyReport(file: string): boolean {
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      return false;
    }
    const known = this.classified.get(file);
    if (known?.mtime === mtime) return known.legacy;
    const legacy = readResultFile(file, 'json').kind === 'legacy';
    this.classified.set(file, { mtime, legacy });
    return legacy;
  }

  private regrades(dir: string, found: JobSource[]): void {
    try {
      for (const entry of readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory())
          found.push({ key: `regrade-${entry.name}`, kind: 'trials', dir: join(dir, entry.name) });
    } catch {
      // no regrades
    }
  }
}

/** A run's name is its run id, the directory above env_api/. */
function runKey(dir: string): string {
  return basename(dir) === 'env_api' ? basename(dirname(dir)) : basename(dir);
}

function isTrialDir(dir: string): boolean {
  return existsSync(join(dir, TRIAL_RESULT_FILE)) || existsSync(join(dir, 'config.json'));
}
