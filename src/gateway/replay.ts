import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errorMessage, UsageError } from '../errors.js';
import type { Endpoint } from './protocols.js';
import { type GatewayProtocol, MODEL_CALL_SCHEMA, type ModelCallRecord } from './types.js';

/**
 * Record and replay. A request is matched to its recording by content, not by call order: its key is the
 * sha256 of a canonical form of (protocol, endpoint, model in the path, query (Gemini's `alt=sse`), method and
 * path for other routes, body)
 * with the volatile parts normalised away (docs/gateway.md lists them):
 * - top-level fields that name a session, user or cache rather than the conversation: VOLATILE_FIELDS;
 * - in every string: the per-trial strings the caller names (`volatile`: workspace path, trial dir, home),
 *   UUIDs, ISO dates and times, written-out dates ("Wednesday, December 2, 2026"), runs of 8+ hex characters
 *   mixing digits and letters (nonces, hashes), epoch seconds and milliseconds, `PID: N` / `PGID: N`, Codex's
 *   `Chunk ID: …` and `Wall time: …`;
 * - object key order.
 * The body is redacted before its key is computed, so a recording's keys never depend on a secret.
 */

/** Top-level request fields dropped before keying: per-session ids and cache keys, never conversation content. */
export const VOLATILE_FIELDS = ['metadata', 'user', 'prompt_cache_key', 'safety_identifier', 'session_id'];

const MONTHS =
  'Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?';
const WEEKDAYS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\\s+';

const PATTERNS: Array<[RegExp, string]> = [
  // Not \b: ids such as `msg_<uuid>` glue it to a word character.
  [/(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi, '<uuid>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b\d{4}[-/]\d{2}[-/]\d{2}\b/g, '<date>'],
  [new RegExp(`\\b(?:${WEEKDAYS})?(?:${MONTHS})\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4}\\b`, 'g'), '<date>'],
  [new RegExp(`\\b(?:${WEEKDAYS})?\\d{1,2}\\s+(?:${MONTHS})\\.?,?\\s+\\d{4}\\b`, 'g'), '<date>'],
  [/\b\d{1,2}:\d{2}:\d{2}\b/g, '<time>'],
  // Nonces, run ids and hashes a tool prints afresh each run (superlint's `[run 43b3…]`): 8+ hex characters with
  // both a digit and a letter, so plain numbers and words stay as they are.
  [/(?<![0-9a-z])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}(?![0-9a-z])/gi, '<hex>'],
  // Epoch seconds or milliseconds in ids a CLI makes up (Gemini CLI's `run_shell_command_<ms>_0`).
  [/(?<!\d)1\d{9}(?:\d{3})?(?!\d)/g, '<epoch>'],
  // Process ids a tool reports (Gemini CLI: `Process Group PGID: 94`).
  [/\b(PGID|PID|pid)(:\s*|=)\d+/g, '$1$2<pid>'],
  // What Codex wraps each command's output in: a random chunk id and the wall time it took.
  [/\b(Chunk ID:\s*)[0-9a-f]+/g, '$1<id>'],
  [/\b(Wall time:\s*)\d+(?:\.\d+)?/g, '$1<duration>'],
];

export interface KeyInput {
  protocol: GatewayProtocol;
  endpoint: Endpoint;
  method: string;
  /** Path and query as the agent sent them, without the key (the path counts for `other` routes only). */
  path: string;
  pathModel?: string | undefined;
  /** The redacted body (parsed JSON or text). */
  body: unknown;
}

function normaliseString(text: string, volatile: readonly string[]): string {
  let out = text;
  volatile.forEach((literal, i) => {
    if (literal.length >= 4) out = out.split(literal).join(`<volatile-${i}>`);
  });
  for (const [pattern, placeholder] of PATTERNS) out = out.replace(pattern, placeholder);
  return out;
}

/** Keys sorted, strings normalised; a stable text form. */
function canonical(value: unknown, volatile: readonly string[]): unknown {
  if (typeof value === 'string') return normaliseString(value, volatile);
  if (Array.isArray(value)) return value.map((item) => canonical(item, volatile));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([key, item]) => [key, canonical(item, volatile)]));
  }
  return value;
}

/** The normalised content a request is matched by (exported so tests and docs can show it). */
export function canonicalRequest(input: KeyInput, volatile: readonly string[] = []): unknown {
  let body = input.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    body = Object.fromEntries(Object.entries(body).filter(([key]) => !VOLATILE_FIELDS.includes(key)));
  }
  return canonical(
    {
      protocol: input.protocol,
      endpoint: input.endpoint,
      route: input.endpoint === 'other' ? `${input.method} ${input.path}` : undefined,
      query: input.path.includes('?') ? input.path.slice(input.path.indexOf('?')) : undefined,
      model: input.pathModel,
      body,
    },
    volatile,
  );
}

export function requestKey(input: KeyInput, volatile: readonly string[] = []): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalRequest(input, volatile)))
    .digest('hex');
}

/** A recorded answer, as replay gives it back. */
export interface RecordedAnswer {
  status: number;
  contentType: string | undefined;
  /** SSE text, JSON value, or text. */
  response: unknown;
  stream: boolean;
}

/** Recorded answers by request key; identical requests consume their answers in recorded order. */
export class ReplayStore {
  private readonly answers = new Map<string, RecordedAnswer[]>();

  add(key: string, answer: RecordedAnswer): void {
    const queue = this.answers.get(key) ?? [];
    queue.push(answer);
    this.answers.set(key, queue);
  }

  /** The next answer for a key, or undefined when none is left. */
  take(key: string): RecordedAnswer | undefined {
    return this.answers.get(key)?.shift();
  }

  get remaining(): number {
    let n = 0;
    for (const queue of this.answers.values()) n += queue.length;
    return n;
  }
}

/** Whether a recorded call can answer a replayed one: upstream (or a replay) answered it whole and not with a transient failure. */
function replayable(record: ModelCallRecord): boolean {
  if (record.refused !== undefined || record.response_truncated || record.error !== undefined) return false;
  return record.status !== 429 && record.status < 500;
}

/** One trial's recording (its model_calls.jsonl) as a replay store. */
export async function loadReplay(modelCallsFile: string): Promise<ReplayStore> {
  let text: string;
  try {
    text = await readFile(modelCallsFile, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the recording ${modelCallsFile}: ${errorMessage(error)}`, {
      hint: 'replay needs the model_calls.jsonl of a job recorded with the gateway',
    });
  }
  const store = new ReplayStore();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let record: ModelCallRecord;
    try {
      record = JSON.parse(line) as ModelCallRecord;
    } catch (error) {
      throw new UsageError(`${modelCallsFile}:${index + 1}: not JSON: ${errorMessage(error)}`);
    }
    if (record.schema !== MODEL_CALL_SCHEMA || typeof record.request_key !== 'string')
      throw new UsageError(`${modelCallsFile}:${index + 1}: expected a ${MODEL_CALL_SCHEMA} line`, {
        hint: 'replay needs the model_calls.jsonl the gateway wrote',
      });
    if (!replayable(record)) return;
    store.add(record.request_key, {
      status: record.status,
      contentType: record.content_type,
      response: record.response,
      stream: record.stream,
    });
  });
  return store;
}
