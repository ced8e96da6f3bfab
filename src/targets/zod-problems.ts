import type { z } from 'zod';
import type { Problem } from '../errors.js';

/** Shows a found value briefly: enough to recognise it in the file, never a whole document. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}…` : value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return `a mapping with keys ${Object.keys(value).slice(0, 6).join(', ') || '(none)'}`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key as string];
  }
  return current;
}

function dotted(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join('');
}

/** Turns zod issues into Problems that name the file, the key, what was expected and what was found. */
export function zodProblems(error: z.ZodError, file: string, data: unknown): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const key = dotted(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const unknownKey of issue.keys) {
        problems.push({ file, key: dotted([...issue.path, unknownKey]), message: 'unknown key', expected: 'one of the documented keys (docs/targets.md)', found: describeFound(valueAt(data, [...issue.path, unknownKey])), severity: 'error' });
      }
      continue;
    }
    const found = describeFound(valueAt(data, issue.path));
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
