import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sessionEntries } from '../util/session-log.js';
import { readJson, readText } from './files.js';
import type { JobStore } from './job-store.js';
import { type RawFile, type TrialView, VIEW_SCHEMA } from './model.js';
import { clip, stepsFromEntries } from './steps.js';

/**
 * One trial page's data: result.json and config.json as written, the session log as a timeline of steps (long texts
 * cut, the raw files listed for the rest), the verifier's output. Read when asked: a job's list never reads logs.
 */

/** Steps shipped to the page; a longer log says how many were left out (the raw file has them all). */
export const MAX_STEPS = 20_000;
const MAX_FILES = 200;
const SKIPPED_FILE_DIRS = new Set(['.git', 'node_modules']);

/** The last trial pages built, by job and trial, each with the stamp of the files it was built from. */
const cache = new Map<string, { stamp: string; view: TrialView }>();
const CACHED_TRIALS = 32;

function stamp(dir: string | undefined): string {
  if (!dir) return 'report';
  return ['session.jsonl', 'result.json']
    .map((file) => {
      try {
        const info = statSync(join(dir, file));
        return `${info.size}:${info.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/** A trial's page data, built again only when its session log or result changed. */
export function trialView(store: JobStore, name: string): TrialView | undefined {
  const trial = store.trial(name);
  if (!trial) return undefined;
  const key = `${store.source.key}\n${name}`;
  const current = stamp(trial.dir);
  const hit = cache.get(key);
  if (hit?.stamp === current) return hit.view;
  const view = buildTrialView(store, name);
  if (!view) return undefined;
  cache.delete(key);
  cache.set(key, { stamp: current, view });
  if (cache.size > CACHED_TRIALS) cache.delete(cache.keys().next().value!);
  return view;
}

function buildTrialView(store: JobStore, name: string): TrialView | undefined {
  const trial = store.trial(name);
  if (!trial) return undefined;
  const base = { schema: VIEW_SCHEMA, jobKey: store.source.key, row: trial.row } as const;
  if (!trial.dir) return legacyTrialView(base, trial.record?.file, trial.row.name);
  const dir = trial.dir;
  const result = readJson(join(dir, 'result.json'));
  const config = readJson(join(dir, 'config.json'));
  const entries = sessionEntries(readText(join(dir, 'session.jsonl')) ?? '');
  const { steps, omitted } = stepsFromEntries(entries, MAX_STEPS);
  const instruction = entries.find((entry) => entry.type === 'instruction');
  const verifierEntry = entries.findLast((entry) => entry.type === 'verifier');
  return {
    ...base,
    result,
    config,
    instruction: clip(instruction?.text),
    steps,
    omittedSteps: omitted,
    verifier: {
      stdout: clip(verifierEntry?.stdout ?? readText(join(dir, 'verifier', 'test-stdout.txt'))),
      stderr: clip(verifierEntry?.stderr ?? readText(join(dir, 'verifier', 'test-stderr.txt'))),
      exitCode: typeof verifierEntry?.exitCode === 'number' ? verifierEntry.exitCode : undefined,
    },
    files: listFiles(dir),
  };
}

/** An original report's trial: its session_log events are the timeline; the report file is the raw file. */
function legacyTrialView(
  base: Pick<TrialView, 'schema' | 'jobKey' | 'row'>,
  file: string | undefined,
  name: string,
): TrialView {
  const report = file ? readJson(file) : undefined;
  const trials = Array.isArray(report?.trials) ? (report.trials as Array<Record<string, unknown>>) : [];
  const index = Number(file ? name.split('__').pop() : Number.NaN);
  const trial = trials.find((t) => String(t.trial_id) === String(index)) ?? {};
  const log = Array.isArray(trial.session_log) ? (trial.session_log as Array<Record<string, unknown>>) : [];
  const { steps, omitted } = stepsFromEntries(log, MAX_STEPS);
  const instruction = log.find((entry) => typeof entry.instruction === 'string');
  return {
    ...base,
    result: trial,
    instruction: clip(instruction?.instruction),
    steps,
    omittedSteps: omitted,
    files: [],
  };
}

/** Every file of the trial directory (symbolic links left out: the server would refuse them anyway). */
export function listFiles(dir: string): RawFile[] {
  const files: RawFile[] = [];
  const walk = (path: string, prefix: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (files.length >= MAX_FILES) return;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !SKIPPED_FILE_DIRS.has(entry.name)) walk(join(path, entry.name), rel);
      else if (entry.isFile()) {
        try {
          files.push({ path: rel, bytes: statSync(join(path, entry.name)).size });
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  walk(dir, '');
  return files;
}
