import type { Step } from './model.js';

/**
 * The side-by-side view's alignment of two trials' agent actions: each step becomes a signature (a command's text,
 * a tool's name and main argument, normalised: whitespace collapsed, trial-specific temp paths and long hex ids
 * masked), the two sequences are matched by a longest common subsequence, and what is left over is unique to one
 * arm. Pure: the front-end runs it, the unit tests check it.
 */

export interface AlignedRow {
  /** Index into the first (with-skills) sequence, absent when the step is only in the second. */
  a?: number | undefined;
  b?: number | undefined;
}

/** Beyond this many DP cells (after the common prefix and suffix are cut) the middle is paired by position. */
export const MAX_CELLS = 16_000_000;
const PRIMARY_ARGS = ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'skill', 'name'];

export function normalise(text: string): string {
  return (
    text
      // A trial's own directories (skill-eval-<pid>-<trial>-…) and temp roots differ between any two trials.
      .replace(/(?:\/[^\s/'"]*skill-eval-[^\s/'"]*)+/g, '/…')
      .replace(/\/tmp\/[^\s/'"]+/g, '/tmp/…')
      .replace(/\b[0-9a-f]{8,}\b/gi, '#')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 300)
  );
}

export function signature(step: Step): string {
  if (step.kind === 'command') return `$ ${normalise(step.input?.text ?? step.title)}`;
  if (step.kind === 'tool_call') {
    const input = step.input?.text ?? '';
    let arg = '';
    try {
      const parsed = JSON.parse(input) as unknown;
      if (parsed !== null && typeof parsed === 'object') {
        const fields = parsed as Record<string, unknown>;
        const key = PRIMARY_ARGS.find((name) => typeof fields[name] === 'string');
        if (key) arg = String(fields[key]);
      } else if (typeof parsed === 'string') arg = parsed;
    } catch {
      arg = input;
    }
    return `${step.title}(${normalise(arg)})`;
  }
  return `${step.kind}:${step.title}`;
}

/** Longest-common-subsequence alignment of two signature lists. */
export function align(a: readonly string[], b: readonly string[]): AlignedRow[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const rows: AlignedRow[] = [];
  for (let i = 0; i < start; i++) rows.push({ a: i, b: i });
  rows.push(...alignMiddle(a, b, start, endA, endB));
  for (let i = endA, j = endB; i < a.length; i++, j++) rows.push({ a: i, b: j });
  return rows;
}

function alignMiddle(
  a: readonly string[],
  b: readonly string[],
  start: number,
  endA: number,
  endB: number,
): AlignedRow[] {
  const n = endA - start;
  const m = endB - start;
  const rows: AlignedRow[] = [];
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_CELLS) {
    // Nothing to match, or too big to match: each side's steps stand alone.
    for (let i = 0; i < n; i++) rows.push({ a: start + i });
    for (let j = 0; j < m; j++) rows.push({ b: start + j });
    return rows;
  }
  const width = m + 1;
  // lengths[i][j]: LCS of a[start+i..] and b[start+j..].
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[start + i] === b[start + j]
          ? lengths[(i + 1) * width + j + 1]! + 1
          : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[start + i] === b[start + j]) {
      rows.push({ a: start + i++, b: start + j++ });
    } else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) {
      rows.push({ a: start + i++ });
    } else {
      rows.push({ b: start + j++ });
    }
  }
  while (i < n) rows.push({ a: start + i++ });
  while (j < m) rows.push({ b: start + j++ });
  return rows;
}

/** The first row where the two trials did something different (a step only one of them took). */
export function firstDivergence(rows: readonly AlignedRow[]): number | undefined {
  const index = rows.findIndex((row) => row.a === undefined || row.b === undefined);
  return index === -1 ? undefined : index;
}

/** The steps the side-by-side view compares: the agent's actions and messages, not the lifecycle's. */
export function comparable(steps: readonly Step[]): Step[] {
  return steps.filter((step) => step.action === true || step.kind === 'message');
}
