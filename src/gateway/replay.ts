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
 * A request with no exact match left may take an answer whose request differs in numbers only (requestKeys).
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

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function requestKey(input: KeyInput, volatile: readonly string[] = []): string {
  return sha256(JSON.stringify(canonicalRequest(input, volatile)));
}

/**
 * Both keys of a request: `key`, and `looseKey`, the same canonical form with every run of digits made one
 * placeholder. Replay falls back on the loose key when the exact one has no answer left: what a tool prints
 * afresh each run is not always recognisable (a hex nonce that happens to hold no letter, a count of bytes, a
 * duration), and such a request differs from its recording in numbers only.
 */
export function requestKeys(input: KeyInput, volatile: readonly string[] = []): { key: string; looseKey: string } {
  const text = JSON.stringify(canonicalRequest(input, volatile));
  return { key: sha256(text), looseKey: sha256(text.replace(/\d+/g, '<n>')) };
}

/** A recorded answer, as replay gives it back. */
export interface RecordedAnswer {
  status: number;
  contentType: string | undefined;
  /** SSE text, JSON value, or text. */
  response: unknown;
  stream: boolean;
}

/** How a replayed request found its answer: by its exact key, or only by its loose key (numbers aside). */
export type ReplayMatch = 'exact' | 'loose';

interface StoredAnswer {
  answer: RecordedAnswer;
  used: boolean;
}

/**
 * Recorded answers by request key, and by loose key; identical requests consume their answers in recorded order,
 * and an answer taken through either key is gone from both.
 */
export class ReplayStore {
  private readonly exact = new Map<string, StoredAnswer[]>();
  private readonly loose = new Map<string, StoredAnswer[]>();

  add(key: string, answer: RecordedAnswer, looseKey?: string): void {
    const stored = { answer, used: false };
    queueOf(this.exact, key).push(stored);
    if (looseKey !== undefined) queueOf(this.loose, looseKey).push(stored);
  }

  /** The next answer for a request, by its exact key first, or undefined when none is left. */
  take(key: string, looseKey?: string): { answer: RecordedAnswer; match: ReplayMatch } | undefined {
    const exact = nextUnused(this.exact.get(key));
    if (exact) return { answer: exact, match: 'exact' };
    const loose = looseKey === undefined ? undefined : nextUnused(this.loose.get(looseKey));
    return loose ? { answer: loose, match: 'loose' } : undefined;
  }

  get remaining(): number {
    let n = 0;
    for (const queue of this.exact.values()) n += queue.filter((stored) => !stored.used).length;
    return n;
  }
}

function queueOf(map: Map<string, StoredAnswer[]>, key: string): StoredAnswer[] {
  let queue = map.get(key);
  if (!queue) {
    queue = [];
    map.set(key, queue);
  }
  return queue;
}

function nextUnused(queue: StoredAnswer[] | undefined): RecordedAnswer | undefined {
  const stored = queue?.find((candidate) => !candidate.used);
  if (!stored) return undefined;
  stored.used = true;
  return stored.answer;
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
    const answer = {
      status: record.status,
      contentType: record.content_type,
      response: record.response,
      stream: record.stream,
    };
    store.add(record.request_key, answer, record.request_loose_key);
  });
  return store;
}
