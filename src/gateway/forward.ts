import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import { DROPPED_RESPONSE } from './protocols.js';
import { ResponseTap } from './tap.js';
import type { GatewayProtocol, RetryPolicy } from './types.js';

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

/** What an upstream request is. */
export interface UpstreamRequest {
  url: string;
  method: string;
  headers: Headers;
  body: Buffer | undefined;
}

export type Attempted =
  | { kind: 'response'; response: Response; attempts: number }
  | { kind: 'unreachable'; message: string; attempts: number }
  /** The agent hung up, or the gateway is closing. */
  | { kind: 'aborted'; message: string; attempts: number };

function transient(status: number): boolean {
  return status === 429 || status >= 500;
}

/** `retry-after` in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before try `attempt + 1`: the server's retry-after when it gave one, else exponential; capped. */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter: number | undefined): number {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, retryAfter ?? exponential);
}

/**
 * Sends a request upstream, retrying 429, 5xx and connection errors with backoff. The last response is
 * returned whatever its status (the caller passes it on); `onRetry` counts each retry.
 */
export async function sendWithRetry(
  request: UpstreamRequest,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry: () => void,
): Promise<Attempted> {
  const attempts = Math.max(1, policy.attempts);
  for (let attempt = 1; ; attempt++) {
    let wait: number | undefined;
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
        redirect: 'manual',
      });
      if (!transient(response.status) || attempt >= attempts) return { kind: 'response', response, attempts: attempt };
      wait = retryAfterMs(response.headers.get('retry-after'));
      await response.body?.cancel().catch(() => undefined);
    } catch (error) {
      if (signal.aborted)
        return { kind: 'aborted', message: 'aborted before the upstream answered', attempts: attempt };
      if (attempt >= attempts) return { kind: 'unreachable', message: upstreamError(error), attempts: attempt };
    }
    onRetry();
    const waited = await sleep(backoffMs(policy, attempt, wait), true, { signal }).catch(() => false);
    if (!waited) return { kind: 'aborted', message: 'aborted while waiting to retry', attempts: attempt };
  }
}

/** fetch hides the reason in `cause` (ECONNREFUSED, a DNS failure…). */
function upstreamError(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined ? errorMessage(error) : `${errorMessage(error)}: ${errorMessage(cause)}`;
}

export function responseHeaders(response: Response): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (!DROPPED_RESPONSE.has(name)) headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return headers;
}

export interface Piped {
  tap: ResponseTap;
  firstByteMs: number | undefined;
  /** Set when the body broke off (upstream or agent went away). */
  error?: string | undefined;
}

/**
 * Passes a body to the agent chunk by chunk as it arrives (waiting for the socket to drain, never for the
 * body to end), showing each chunk to the tap.
 */
export async function pipeBody(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined,
  res: ServerResponse,
  protocol: GatewayProtocol,
  sse: boolean,
  started: number,
): Promise<Piped> {
  const tap = new ResponseTap(protocol, sse);
  let firstByteMs: number | undefined;
  let error: string | undefined;
  try {
    for await (const chunk of body ?? []) {
      firstByteMs ??= performance.now() - started;
      tap.push(chunk);
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (res.destroyed) throw new Error('the agent closed the connection');
    }
  } catch (caught) {
    error = upstreamError(caught);
  }
  tap.end();
  res.end();
  return { tap, firstByteMs, error };
}
