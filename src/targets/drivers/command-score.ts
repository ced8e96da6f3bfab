import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CommandStage, Contract, ScoreSpec } from '../contract.js';
import { loadDataset } from '../dataset.js';
import type { Sample } from '../samples.js';
import { expandVariables, type StageFailure } from '../stages.js';

/**
 * The command driver's scoring side: the score is read from the file the benchmark's own scorer wrote
 * during this evaluation — never from an exit code, never from a file that was there before.
 */

export interface FileState {
  exists: boolean;
  mtimeMs?: number | undefined;
  sha256?: string | undefined;
}

export async function fileState(path: string): Promise<FileState> {
  try {
    const [info, bytes] = await Promise.all([stat(path), readFile(path)]);
    return { exists: true, mtimeMs: info.mtimeMs, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch {
    return { exists: false };
  }
}

export function scoreFilePath(spec: ScoreSpec, targetDir: string, variables: Record<string, string>): string {
  const expanded = expandVariables(spec.file, variables);
  return isAbsolute(expanded) ? expanded : resolve(targetDir, expanded);
}

/** `a.b[0].c` into a parsed document. */
export function valueAtPath(document: unknown, path: string): unknown {
  let current = document;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value.trim().replace(/%$/, ''))))
    return Number(value.trim().replace(/%$/, ''));
  return undefined;
}

export interface ScoreReading {
  score?: number | undefined;
  count?: number | undefined;
  source: string;
  failure?: StageFailure | undefined;
}

/** Reads the score the official scorer wrote, checking it was written by this evaluation. */
export async function readOfficialScore(options: {
  spec: ScoreSpec;
  path: string;
  before: FileState;
  range: Contract['scoring']['range'];
  samples: number | undefined;
  targetDir: string;
}): Promise<ScoreReading> {
  const { spec, path } = options;
  const display = path.startsWith(options.targetDir) ? path.slice(options.targetDir.length + 1) : path;
  const source = `file:${display}${spec.json_path ? `#${spec.json_path}` : ` /${spec.regex}/`}`;
  const fail = (code: string, message: string): ScoreReading => ({
    source,
    failure: { stage: 'evaluate', code, message, class: 'score' },
  });
  const after = await fileState(path);
  if (!after.exists) return fail('score_file_missing', `the scorer did not write ${display}`);
  if (options.before.exists && options.before.sha256 === after.sha256 && options.before.mtimeMs === after.mtimeMs) {
    return fail(
      'score_file_stale',
      `${display} was there before the evaluation and was not rewritten by it: not a score of this run`,
    );
  }
  const text = await readFile(path, 'utf8');
  let value: unknown;
  let count: unknown;
  if (spec.json_path) {
    let document: unknown;
    try {
      document = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
    } catch (error) {
      return fail(
        'score_unparseable',
        `${display}: not ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'} (${(error as Error).message})`,
      );
    }
    value = valueAtPath(document, spec.json_path);
    if (spec.count_path) count = valueAtPath(document, spec.count_path);
  } else {
    value = new RegExp(spec.regex!).exec(text)?.[1];
    if (spec.count_path) count = valueAtPath(safeJson(text), spec.count_path);
  }
  const raw = toNumber(value);
  if (raw === undefined)
    return fail(
      'score_unparseable',
      `${display}: ${spec.json_path ? `key ${spec.json_path}` : `regex /${spec.regex}/`} gives ${JSON.stringify(value) ?? 'nothing'}, not a number`,
    );
  const score = raw / spec.scale;
  const [low, high] = options.range;
  if (score < low || score > high)
    return fail('score_out_of_range', `${display}: score ${score} is outside scoring.range [${low}, ${high}]`);
  const scored = spec.count_path ? toNumber(count) : undefined;
  if (spec.count_path && scored === undefined)
    return fail('score_unparseable', `${display}: count_path ${spec.count_path} is not a number`);
  if (scored !== undefined && options.samples !== undefined && scored !== options.samples) {
    return fail(
      'score_count_mismatch',
      `${display}: the scorer scored ${scored} samples, the rollout produced ${options.samples}: the score is not of this rollout's samples`,
    );
  }
  return { score, count: scored, source };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A membership test for `stage.dataset`: sample ids (or prompts containing a row's prompt field). */
export async function commandDatasetCheck(
  stage: CommandStage,
  targetDir: string,
): Promise<((sample: Sample) => boolean) | undefined> {
  const source = stage.dataset;
  if (!source) return undefined;
  const { rows } = await loadDataset(targetDir, source.file);
  if (source.id_field) {
    const ids = new Set(rows.map((row) => String(row[source.id_field!])));
    return (sample) => sample.id !== undefined && ids.has(String(sample.id));
  }
  if (source.prompt_field) {
    const prompts = rows.map((row) => String(row[source.prompt_field!] ?? '')).filter((p) => p.trim() !== '');
    const exact = new Set(prompts);
    return (sample) => exact.has(sample.prompt) || prompts.some((p) => sample.prompt.includes(p));
  }
  return undefined;
}
