import { statSync } from 'node:fs';
import { join } from 'node:path';
import { jsonObjectLines } from '../util/json-lines.js';
import { readJson, readText } from './files.js';
import {
  type EpisodeStep,
  type RawFile,
  type RunListEntry,
  type RunView,
  type SampleRow,
  type SampleView,
  VIEW_SCHEMA,
} from './model.js';
import { clip } from './steps.js';
import { listFiles } from './trial-data.js';

/**
 * One benchmark target run as the viewer shows it: the directory `skill-eval target run` writes per run
 * (`<artifacts>/<run_id>/env_api/`: rollout.json, metrics.json, target.json, samples.jsonl and, for the browser
 * driver, each episode's evidence under episodes/). Read again only when one of its files changed; a run being
 * written shows what is there.
 */

export interface RunSource {
  key: string;
  dir: string;
}

/** Samples shipped to the run page; a longer samples.jsonl says how many were left out. */
export const MAX_SAMPLES = 20_000;
const COMPLETION_CHARS = 200;
const STAMPED = ['rollout.json', 'metrics.json', 'samples.jsonl'];

type Json = Record<string, unknown>;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);

export class RunStore {
  private cached: { stamp: string; view: RunView; lines: Json[] } | undefined;

  constructor(readonly source: RunSource) {}

  entry(): RunListEntry {
    return this.load().view.entry;
  }

  runView(): RunView {
    return this.load().view;
  }

  /** The sample on line `line` of samples.jsonl, with its episode's evidence when it has one. */
  sampleView(line: number): SampleView | undefined {
    const { view, lines } = this.load();
    const sample = lines[line - 1];
    const row = view.samples.find((r) => r.line === line);
    if (!sample || !row) return undefined;
    const evidence = row.evidenceDir ? this.evidence(row.evidenceDir) : { steps: [], files: [] };
    return {
      schema: VIEW_SCHEMA,
      runKey: this.source.key,
      row,
      sample: shownSample(sample),
      prompt: clip(sample.prompt),
      completion: clip(sample.completion),
      actions: Array.isArray(sample.actions) ? sample.actions : [],
      ...evidence,
    };
  }

  private stamp(): string {
    return STAMPED.map((file) => {
      try {
        const info = statSync(join(this.source.dir, file));
        return `${info.size}:${info.mtimeMs}`;
      } catch {
        return '-';
      }
    }).join('|');
  }

  private load(): { view: RunView; lines: Json[] } {
    const stamp = this.stamp();
    if (this.cached?.stamp === stamp) return this.cached;
    const { dir, key } = this.source;
    const rollout = readJson(join(dir, 'rollout.json'));
    const metrics = readJson(join(dir, 'metrics.json'));
    const target = readJson(join(dir, 'target.json'));
    const { objects: lines, bad } = jsonObjectLines(readText(join(dir, 'samples.jsonl')) ?? '');
    const samples = lines.slice(0, MAX_SAMPLES).map((sample, i) => sampleRow(sample, i + 1));
    const view: RunView = {
      schema: VIEW_SCHEMA,
      entry: runEntry(key, dir, rollout, metrics, target, readJson(join(dir, 'logs', 'rollout.json')), lines.length),
      rollout,
      metrics,
      target,
      samples,
      omittedSamples: Math.max(0, lines.length - MAX_SAMPLES),
      badLines: bad,
      files: listFiles(dir).filter((file) => !file.path.startsWith('episodes/')),
      version: stamp,
    };
    this.cached = { stamp, view, lines };
    return this.cached;
  }

  /** An episode's model calls (one per step), its screenshots and its trace, all relative to the run directory. */
  private evidence(evidenceDir: string): Pick<SampleView, 'steps' | 'trace' | 'traceOmitted' | 'files'> {
    const dir = join(this.source.dir, evidenceDir);
    const files: RawFile[] = listFiles(dir).map((file) => ({ ...file, path: `${evidenceDir}/${file.path}` }));
    const names = new Set(files.map((file) => file.path.slice(evidenceDir.length + 1)));
    const lines = jsonObjectLines(readText(join(dir, 'model_calls.jsonl')) ?? '').objects;
    const steps: EpisodeStep[] = lines.map((call, i) => {
      const step = num(call.step) ?? i + 1;
      const messages = Array.isArray(call.messages) ? (call.messages as Json[]) : [];
      const last = messages.at(-1);
      const shot = `step-${step}.png`;
      return {
        step,
        at: str(call.at),
        observation: clip(last?.content),
        imagesSent: Array.isArray(last?.images) ? last.images.length : 0,
        reply: clip(call.response),
        error: str(call.error),
        screenshot: names.has(shot) ? `${evidenceDir}/${shot}` : undefined,
      };
    });
    const trace = names.has('trace.zip')
      ? 'trace.zip'
      : names.has('trace.omitted.txt')
        ? 'trace.omitted.txt'
        : undefined;
    return {
      steps,
      trace: trace ? `${evidenceDir}/${trace}` : undefined,
      traceOmitted: trace === 'trace.omitted.txt' ? true : undefined,
      files,
    };
  }
}

function runEntry(
  key: string,
  dir: string,
  rollout: Json | undefined,
  metrics: Json | undefined,
  target: Json | undefined,
  stageLog: Json | undefined,
  samples: number,
): RunListEntry {
  const failure = (rollout?.failure ?? metrics?.failure) as Json | undefined;
  return {
    key,
    dir,
    runId: str(rollout?.run_id) ?? str(metrics?.run_id),
    target: str(rollout?.target) ?? str(target?.spec) ?? str(metrics?.target),
    model: modelName(rollout?.model) ?? modelName(metrics?.model),
    mode: str(rollout?.mode) ?? str(metrics?.mode),
    driver: str(stageLog?.driver),
    startedAt: str(rollout?.started_at),
    samples,
    rolloutOk: rollout?.ok === true,
    evaluated: metrics !== undefined,
    evaluationOk: bool(metrics?.ok),
    score: num(metrics?.score),
    primaryMetric: str(metrics?.primary_metric),
    failure: failure
      ? [str(failure.code) ?? str(failure.failure_code), str(failure.message)].filter(Boolean).join(': ')
      : undefined,
  };
}

/** rollout.json's `model` is `{name, kind, base_url}`; an older or hand-written one may be a plain name. */
function modelName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return value !== null && typeof value === 'object' ? str((value as Json).name) : undefined;
}

function sampleRow(sample: Json, line: number): SampleRow {
  const completion = str(sample.completion);
  return {
    line,
    id: str(sample.id) ?? (typeof sample.id === 'number' ? String(sample.id) : undefined),
    index: num(sample.index),
    seed: num(sample.seed),
    group: str(sample.group),
    page: str(sample.page),
    reward: num(sample.reward),
    success: bool(sample.success),
    correct: bool(sample.correct),
    steps: num(sample.steps),
    endedBy: str(sample.ended_by),
    errorCode: str(sample.error_code),
    error: str(sample.error),
    durationMs: num(sample.duration_ms),
    evidenceDir: safeEvidenceDir(sample.evidence_dir),
    completion: completion === undefined ? undefined : completion.slice(0, COMPLETION_CHARS),
  };
}

/** Only a relative path without `..` is followed: a samples file is data, not a pointer to anywhere on disk. */
function safeEvidenceDir(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.startsWith('/') || value.includes('\\')) return undefined;
  const segments = value.split('/').filter((segment) => segment !== '' && segment !== '.');
  return segments.length === 0 || segments.includes('..') ? undefined : segments.join('/');
}

/** The sample as written, every long string cut (a browser sample's prompt and completion are on their own). */
function shownSample(sample: Json): Json {
  const shown: Json = {};
  for (const [name, value] of Object.entries(sample)) {
    // Shown on their own: the prompt, the completion, the actions, and each reply with its step.
    if (['prompt', 'completion', 'actions', 'replies'].includes(name)) continue;
    shown[name] = typeof value === 'string' && value.length > COMPLETION_CHARS * 5 ? clip(value)?.text : value;
  }
  return shown;
}
