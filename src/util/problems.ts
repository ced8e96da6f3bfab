import { isAbsolute, relative, sep } from 'node:path';
import type { z } from 'zod';
import type { Problem } from '../errors.js';

/**
 * How a Problem in a user's file is worded, for every reader (task.toml, SKILL.md, contracts, pipelines): how
 * the file is named, how a wrong value is shown, a table reader that validates each known key with zod and
 * remembers the keys nobody asked for, and zod issues turned into Problems.
 */

/** A path as users should see it: relative to `cwd` when inside it (friendlier, clickable), absolute otherwise. */
export function displayPath(absolutePath: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, absolutePath);
  if (rel === '') return '.';
  if (rel.startsWith('..') || isAbsolute(rel)) return absolutePath;
  return rel.split(sep).join('/');
}

const MAX_SHOWN = 60;

function shorten(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** `"two" (string)`, `-1 (number)`, `[1, 2] (array)`: what a Problem's `found` says about a value. */
export function describeValue(value: unknown, mapWord = 'table'): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') return `${shorten(JSON.stringify(value))} (string)`;
  if (typeof value === 'number' || typeof value === 'bigint') return `${String(value)} (number)`;
  if (typeof value === 'boolean') return `${String(value)} (boolean)`;
  if (value instanceof Date) return `${value.toISOString()} (date)`;
  if (Array.isArray(value)) return `${shorten(safeJson(value))} (array)`;
  if (typeof value === 'object') return `${shorten(safeJson(value))} (${mapWord})`;
  return typeof value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** A key's schema plus the words a user reads when the value does not fit it. */
export interface FieldSpec<T> {
  schema: z.ZodType<T>;
  expected: string;
}

export function field<T>(schema: z.ZodType<T>, expected: string): FieldSpec<T> {
  return { schema, expected };
}

export interface ReaderContext {
  /** The file as shown in problems. */
  file: string;
  problems: Problem[];
  /** Where unknown keys are kept (dotted key → value). */
  unknown?: Record<string, unknown> | undefined;
  /** Word for a map in `found` (TOML says table, YAML says mapping). */
  mapWord?: string | undefined;
  /** What to say about an unknown key (defaults to "unknown key; ignored"). */
  unknownMessage?: string | undefined;
}

/** Reads one table key by key; `finish()` reports every key that was never read. */
export class TableReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly table: Record<string, unknown>,
    /** Dotted path of this table (`environment`), empty at the top level. */
    private readonly prefix: string,
    private readonly context: ReaderContext,
  ) {}

  keyPath(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}.${key}`;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.table, key);
  }

  /** The raw value, marked as known. */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.table[key];
  }

  /** The value when present and valid; an error Problem (and undefined) when present and invalid. */
  read<T>(key: string, spec: FieldSpec<T>): T | undefined {
    this.seen.add(key);
    if (!this.has(key)) return undefined;
    const value = this.table[key];
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    this.error(key, `invalid value`, spec.expected, describeValue(value, this.context.mapWord));
    return undefined;
  }

  /** A sub-table: undefined when absent; an error when present but not a table. */
  subTable(key: string): TableReader | undefined {
    this.seen.add(key);
    if (!this.has(key)) return undefined;
    const value = this.table[key];
    if (!isPlainObject(value)) {
      this.error(
        key,
        `must be a ${this.context.mapWord ?? 'table'}`,
        `a ${this.context.mapWord ?? 'table'}`,
        describeValue(value, this.context.mapWord),
      );
      return undefined;
    }
    return new TableReader(value, this.keyPath(key), this.context);
  }

  /** A map of string → string (`env`), reporting each bad entry by its own key. */
  stringMap(key: string): Record<string, string> | undefined {
    const sub = this.subTable(key);
    if (sub === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const name of sub.keys()) {
      const value = sub.raw(name);
      if (typeof value === 'string') out[name] = value;
      else sub.error(name, 'invalid value', 'a string', describeValue(value, this.context.mapWord));
    }
    return out;
  }

  keys(): string[] {
    return Object.keys(this.table);
  }

  error(key: string | undefined, message: string, expected?: string, found?: string): void {
    this.push('error', key, message, expected, found);
  }

  warning(key: string | undefined, message: string, expected?: string, found?: string): void {
    this.push('warning', key, message, expected, found);
  }

  /** Warns about (and keeps) every key that was never read. */
  finish(): void {
    for (const key of Object.keys(this.table)) {
      if (this.seen.has(key)) continue;
      const path = this.keyPath(key);
      if (this.context.unknown) this.context.unknown[path] = this.table[key];
      this.warning(key, this.context.unknownMessage ?? 'unknown key; ignored');
    }
  }

  private push(
    severity: Problem['severity'],
    key: string | undefined,
    message: string,
    expected?: string,
    found?: string,
  ): void {
    const path = key === undefined ? (this.prefix === '' ? undefined : this.prefix) : this.keyPath(key);
    // Undefined fields vanish from JSON; this order reads well in --json output.
    this.context.problems.push({ file: this.context.file, key: path, message, expected, found, severity });
  }
}

/** The value at a zod issue's path in the data that was parsed; undefined where the path leads nowhere. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key as string];
  }
  return current;
}

/** A key path as users write it (`tasks[0].graders[1].weight`), after `prefix`; undefined when empty. */
export function keyPath(path: readonly PropertyKey[], prefix = ''): string | undefined {
  let key = prefix;
  for (const part of path) {
    if (typeof part === 'number') key += `[${part}]`;
    else key += key === '' ? String(part) : `.${String(part)}`;
  }
  return key === '' ? undefined : key;
}

/** Turns zod issues into Problems that name the file, the key, what was expected and what was found. */
export function zodProblems(error: z.ZodError, file: string, data: unknown): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const key = keyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const unknownKey of issue.keys) {
        problems.push({
          file,
          key: keyPath([...issue.path, unknownKey]),
          message: 'unknown key',
          expected: 'one of the documented keys',
          found: describeValue(valueAt(data, [...issue.path, unknownKey])),
          severity: 'error',
        });
      }
      continue;
    }
    const found = describeValue(valueAt(data, issue.path));
    let expected: string | undefined;
    let message = issue.message;
    if (issue.code === 'invalid_type') {
      expected = issue.expected;
      message = valueAt(data, issue.path) === undefined ? 'missing' : 'wrong type';
    } else if (issue.code === 'invalid_value') {
      expected = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      message = 'not an allowed value';
    } else if (issue.code === 'too_small') {
      expected = `${issue.origin === 'array' ? 'at least' : '≥'} ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}`;
      message = 'too small';
    } else if (issue.code === 'too_big') {
      expected = `≤ ${String(issue.maximum)}`;
      message = 'too big';
    }
    problems.push({ file, key, message, expected, found, severity: 'error' });
  }
  return problems;
}
