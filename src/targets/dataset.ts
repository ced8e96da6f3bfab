import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { glob } from 'tinyglobby';
import { UsageError } from '../errors.js';

export type Row = Record<string, unknown>;

export interface LoadedDataset {
  rows: Row[];
  /** Files read, relative to the root, in order. */
  files: string[];
}

async function readJsonl(path: string, label: string): Promise<Row[]> {
  const rows: Row[] = [];
  const lines = (await readFile(path, 'utf8')).split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${label}:${index + 1}: not JSON (${(error as Error).message})`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new UsageError(
        `${label}:${index + 1}: expected a JSON object per line, found ${Array.isArray(value) ? 'a list' : typeof value}`,
      );
    rows.push(value as Row);
  }
  return rows;
}

async function readParquet(path: string): Promise<Row[]> {
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = (await parquetReadObjects({ file, compressors, rowFormat: 'object' })) as Row[];
  // Parquet integers arrive as bigint; prompts and gold answers want plain numbers.
  for (const row of rows)
    for (const [key, value] of Object.entries(row)) if (typeof value === 'bigint') row[key] = Number(value);
  return rows;
}

/** Reads a JSONL, JSON or Parquet file, or every file a glob matches (in name order), relative to `root`. */
export async function loadDataset(root: string, pattern: string): Promise<LoadedDataset> {
  const matches = (await glob(pattern, { cwd: root, absolute: true, dot: false })).sort();
  if (matches.length === 0)
    throw new UsageError(`dataset ${JSON.stringify(pattern)}: no file matches under ${root}`, {
      hint: 'the qa driver reads .jsonl, .json or .parquet files; the path is relative to the target root',
    });
  const rows: Row[] = [];
  const files: string[] = [];
  for (const path of matches) {
    const label = relative(root, path);
    if (/\.parquet$/i.test(path)) rows.push(...(await readParquet(path)));
    else if (/\.jsonl$/i.test(path)) rows.push(...(await readJsonl(path, label)));
    else if (/\.json$/i.test(path)) {
      const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
      const list = Array.isArray(value) ? value : (value as { data?: unknown })?.data;
      if (!Array.isArray(list)) throw new UsageError(`${label}: expected a JSON list of rows (or {"data": [...]})`);
      rows.push(...(list as Row[]));
    } else throw new UsageError(`dataset file ${label}: unsupported format`, { hint: 'use .jsonl, .json or .parquet' });
    files.push(label);
  }
  return { rows, files };
}
