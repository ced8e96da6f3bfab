import type { ExtractorSpec } from './contract.js';

/** Pure answer extraction and comparison for the qa driver. */

/** GSM8K gold: the text after the last `####`, commas stripped (`1,000` → `1000`). */
export function gsm8kGold(answer: string): string | undefined {
  const at = answer.lastIndexOf('####');
  if (at === -1) return undefined;
  const gold = answer
    .slice(at + 4)
    .trim()
    .replace(/,/g, '');
  return gold === '' ? undefined : gold;
}

/** The content of the last `\boxed{…}` (or `\fbox{…}`), braces balanced. */
export function lastBoxed(text: string): string | undefined {
  const starts = [...text.matchAll(/\\(?:boxed|fbox)\s*\{/g)];
  const last = starts.at(-1);
  if (!last) return undefined;
  let depth = 1;
  const from = last.index + last[0].length;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return text.slice(from, i).trim();
  }
  return undefined;
}

/** lm-evaluation-harness's gsm8k "flexible-extract": the last number-like token. */
const NUMBER_TOKEN = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;

export function lastNumber(text: string): string | undefined {
  let found: string | undefined;
  for (const match of text.matchAll(NUMBER_TOKEN)) {
    const token = match[1] ?? match[2];
    // A lone "." or "," or "$" run is punctuation, not a number.
    if (token && /[0-9]/.test(token)) found = token;
  }
  return found;
}

export function extractAnswer(text: string, extractor: ExtractorSpec): string | undefined {
  if (extractor.type === 'last_number') return lastNumber(text);
  if (extractor.type === 'boxed') return lastBoxed(text);
  const matches = [...text.matchAll(new RegExp(extractor.pattern, 'g'))];
  const match = extractor.select === 'last' ? matches.at(-1) : matches[0];
  const value = match?.[extractor.group];
  return value === undefined ? undefined : value.trim();
}

/** `$1,234.50` → 1234.5; undefined when the text is not a number. */
export function parseNumeric(text: string): number | undefined {
  const cleaned = text
    .trim()
    .replace(/^\\\(|\\\)$/g, '')
    .replace(/[$€£%\s]/g, '')
    .replace(/,/g, '')
    .replace(/\.$/, '');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cleaned)) {
    const fraction = /^([-+]?\d+)\/(\d+)$/.exec(cleaned);
    if (fraction && Number(fraction[2]) !== 0) return Number(fraction[1]) / Number(fraction[2]);
    return undefined;
  }
  return Number(cleaned);
}

export function normaliseText(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.。]$/, '');
}

/** Whether an extracted answer matches the gold one. A missing answer or gold never matches. */
export function answersMatch(
  extracted: string | undefined,
  gold: string | undefined,
  mode: 'numeric' | 'text' | 'none',
): boolean {
  if (extracted === undefined || gold === undefined || gold.trim() === '') return false;
  if (mode === 'none') return extracted === gold;
  if (mode === 'numeric') {
    const a = parseNumeric(extracted);
    const b = parseNumeric(gold);
    if (a !== undefined && b !== undefined) return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  }
  return normaliseText(extracted) === normaliseText(gold);
}

/** Fills `{field}` placeholders from a row; `{{` and `}}` are literal braces. */
export function renderTemplate(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{\{|\}\}|\{([\w.-]+)\}/g, (whole, key: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const value = values[key!];
    return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** The placeholders a template uses. */
export function templateFields(template: string): string[] {
  return [...template.replace(/\{\{|\}\}/g, '').matchAll(/\{([\w.-]+)\}/g)].map((m) => m[1]!);
}
