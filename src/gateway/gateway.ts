import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorMessage, InfraError } from '../errors.js';
import { Redactor } from '../util/secrets.js';
import { budgetExhausted } from './budget.js';
import { CallsLog } from './calls-log.js';
import { DEFAULT_RETRY, type Piped, pipeBody, responseHeaders, sendWithRetry } from './forward.js';
import { callCost, type PriceTable, priceTable } from './prices.js';
import {
  errorBody,
  isStreamRequest,
  presentedTokens,
  publicQuery,
  type Route,
  routeOf,
  upstreamHeaders,
  upstreamUrl,
} from './protocols.js';
import { requestKeys } from './replay.js';
import { parseJson } from './tap.js';
import {
  type CallUsage,
  type Gateway,
  type GatewayOptions,
  type GatewayProtocol,
  type GatewayStop,
  type GatewayUsage,
  MODEL_CALL_SCHEMA,
  type ModelCallRecord,
} from './types.js';

/** A per-trial secret for the agent to use as its API key: long enough to guess never, shaped like a key. */
export function newGatewayToken(): string {
  return `sk-skill-eval-${randomBytes(24).toString('base64url')}`;
}

/** One request as the gateway handles it. */
interface Call {
  started: number;
  route: Route;
  method: string;
  pathname: string;
  search: URLSearchParams;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  /** Parsed JSON body, or undefined when there is none or it is not JSON. */
  body: unknown;
  stream: boolean;
  /** The record written for it: what is known so far. */
  record: ModelCallRecord;
}

/** The model service could not answer the call: 429/5xx after the retries, or nothing usable at all. */
function unavailable(record: ModelCallRecord): boolean {
  if (record.refused !== undefined && record.refused !== 'upstream_failed') return false;
  return record.status === 429 || record.status >= 500 || (record.error !== undefined && record.status < 400);
}

/** The gateway's running state: totals, the stop signal, the calls log. */
class GatewayState {
  readonly totals: GatewayUsage = {
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    reasoningTokens: 0,
    costUsd: undefined,
    costIncomplete: false,
    retries: 0,
    failedCalls: 0,
    unavailableCalls: 0,
    modelsServed: [],
  };
  readonly stop = new AbortController();
  readonly log: CallsLog;
  readonly prices: PriceTable;
  readonly configured: GatewayProtocol[];
  /** The caller's redactor, and then the token and upstream keys whether or not the caller's knows them. */
  readonly redactor: Pick<Redactor, 'redact' | 'redactValue'>;

  constructor(readonly options: GatewayOptions) {
    const own = new Redactor([options.token, ...Object.values(options.upstreams).map((u) => u.apiKey)]);
    this.redactor = {
      redact: (text) => own.redact(options.redactor.redact(text)),
      redactValue: (value) => own.redactValue(options.redactor.redactValue(value)),
    };
    this.log = new CallsLog(options.callsFile);
    this.prices = options.prices ?? priceTable();
    this.configured = Object.keys(options.upstreams) as GatewayProtocol[];
  }

  halt(stop: GatewayStop): void {
    if (!this.stop.signal.aborted) this.stop.abort(stop);
  }

  /** Adds a finished call to the totals, the job's budget and the log; stops the agent once over budget. */
  finish(call: Call): void {
    describeRequest(this, call);
    const record = call.record;
    const usage = record.usage;
    const model = record.model_served ?? record.model_requested;
    if (usage) record.cost_usd = model === undefined ? undefined : callCost(this.prices, model, usage);
    if (record.refused !== 'unauthorized') this.count(record, usage);
    this.log.append(record);
    const over = budgetExhausted(this.options.budget, this.totals);
    if (over) this.halt({ kind: 'budget_exceeded', message: over });
  }

  private count(record: ModelCallRecord, usage: CallUsage | undefined): void {
    const t = this.totals;
    t.calls++;
    if (record.status >= 400 || record.error !== undefined) t.failedCalls++;
    if (unavailable(record)) t.unavailableCalls++;
    if (record.model_served && !t.modelsServed.includes(record.model_served)) t.modelsServed.push(record.model_served);
    if (!usage) return;
    t.inputTokens += usage.input_tokens;
    t.outputTokens += usage.output_tokens;
    t.cachedInputTokens += usage.cached_input_tokens;
    t.reasoningTokens += usage.reasoning_tokens;
    if (record.cost_usd === undefined) t.costIncomplete = true;
    else {
      t.costUsd = Math.round(((t.costUsd ?? 0) + record.cost_usd) * 1e6) / 1e6;
      this.options.budget?.job?.charge(record.cost_usd);
    }
  }
}

function tokenMatches(presented: string[], token: string): boolean {
  const expected = Buffer.from(token);
  return presented.some((p) => {
    const given = Buffer.from(p);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Answers with the gateway's own JSON and records it. */
function answer(
  state: GatewayState,
  call: Call,
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Partial<ModelCallRecord>,
): void {
  sendJson(res, status, body);
  Object.assign(call.record, {
    status,
    latency_ms: elapsed(call),
    response: body,
    content_type: 'application/json',
    ...extra,
  });
  state.finish(call);
}

/** Answers with the gateway's own provider-shaped error and records it. */
function refuse(
  state: GatewayState,
  call: Call,
  res: ServerResponse,
  status: number,
  message: string,
  refused: ModelCallRecord['refused'],
): void {
  const body = errorBody(call.route.protocol, status, message, refused ?? 'gateway_error');
  answer(state, call, res, status, body, { error: message, refused });
}

function elapsed(call: Call): number {
  return Math.round((performance.now() - call.started) * 10) / 10;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads the request and builds its Call; its content key and redacted copy come later (describe). */
async function newCall(state: GatewayState, req: IncomingMessage): Promise<Call> {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'http://gateway');
  const method = req.method ?? 'GET';
  const raw = await readBody(req);
  const body = parseJson(raw.toString('utf8'));
  const route = routeOf(method, url.pathname, req.headers, url.searchParams, state.configured);
  const stream = isStreamRequest(route, body, url.searchParams);
  const requested = (body as { model?: unknown } | undefined)?.model;
  const record: ModelCallRecord = {
    schema: MODEL_CALL_SCHEMA,
    at: new Date().toISOString(),
    protocol: route.protocol,
    endpoint: route.endpoint,
    method,
    path: state.redactor.redact(`${url.pathname}${publicQuery(url.searchParams)}`),
    status: 0,
    latency_ms: 0,
    stream,
    model_requested: typeof requested === 'string' ? requested : route.pathModel,
    attempts: 0,
    request: undefined,
    response: undefined,
    request_key: '',
  };
  const search = url.searchParams;
  return { started, route, method, pathname: url.pathname, search, headers: req.headers, raw, body, stream, record };
}

/**
 * Fills in the record's redacted request and content key (once) and returns the key. Forwarded calls do
 * this while the upstream is working, so it adds nothing to their latency.
 */
function describeRequest(state: GatewayState, call: Call): { key: string; looseKey: string | undefined } {
  const record = call.record;
  if (record.request_key !== '') return { key: record.request_key, looseKey: record.request_loose_key };
  const redactor = state.redactor;
  const raw = call.raw.length > 0 ? call.raw.toString('utf8') : undefined;
  record.request = redactor.redactValue(call.body ?? raw);
  const { protocol, endpoint, pathModel } = call.route;
  const input = { protocol, endpoint, method: call.method, path: record.path, pathModel, body: record.request };
  const keys = requestKeys(input, state.options.volatile);
  record.request_key = keys.key;
  record.request_loose_key = keys.looseKey;
  return keys;
}

/**
 * Chat Completions streams report usage only when asked (`stream_options.include_usage`): ask, so every
 * streamed call is counted. The agent gets one extra chunk with empty `choices`, which clients ignore.
 */
function upstreamBody(call: Call): Buffer | undefined {
  if (call.raw.length === 0) return undefined;
  if (call.route.endpoint !== 'chat' || !call.stream) return call.raw;
  const body = call.body as { stream_options?: { include_usage?: unknown } };
  if (body.stream_options?.include_usage !== undefined) return call.raw;
  return Buffer.from(JSON.stringify({ ...body, stream_options: { ...body.stream_options, include_usage: true } }));
}

async function forwardCall(state: GatewayState, call: Call, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const { protocol } = call.route;
  const upstream = state.options.upstreams[protocol];
  if (!upstream) {
    const message = `upstream_failed: the gateway has no ${protocol} endpoint configured`;
    state.halt({ kind: 'upstream_failed', message });
    return refuse(state, call, res, 502, message, 'upstream_failed');
  }
  const request = {
    url: upstreamUrl(protocol, upstream, call.pathname, call.search),
    method: call.method,
    headers: upstreamHeaders(call.headers, protocol, upstream),
    body: upstreamBody(call),
  };
  const policy = state.options.retry ?? DEFAULT_RETRY;
  const sending = sendWithRetry(request, policy, signal, () => state.totals.retries++);
  describeRequest(state, call);
  const sent = await sending;
  call.record.attempts = sent.attempts;
  if (sent.kind === 'aborted') return refuse(state, call, res, 502, sent.message, undefined);
  if (sent.kind === 'unreachable') {
    const message = `upstream_failed: ${protocol} endpoint unreachable after ${sent.attempts} tries: ${sent.message}`;
    state.halt({ kind: 'upstream_failed', message });
    return refuse(state, call, res, 502, message, undefined);
  }
  const { response } = sent;
  const contentType = response.headers.get('content-type') ?? undefined;
  res.writeHead(response.status, responseHeaders(response));
  res.flushHeaders();
  const sse = contentType?.includes('text/event-stream') ?? false;
  const piped = await pipeBody(response.body ?? undefined, res, protocol, sse, call.started);
  const recorded = piped.tap.recorded();
  Object.assign(call.record, {
    ...streamed(call, piped, sse, response.status),
    response: state.redactor.redactValue(recorded.response),
    response_truncated: recorded.truncated || undefined,
    content_type: contentType,
    error: piped.error,
  });
  if (response.status === 429 || response.status >= 500)
    state.halt({
      kind: 'upstream_failed',
      message: `upstream_failed: ${protocol} answered ${response.status} after ${sent.attempts} tries`,
    });
  state.finish(call);
}

/** The record's fields a piped body gives: timing, usage, the model served. */
function streamed(call: Call, piped: Piped, sse: boolean, status: number): Partial<ModelCallRecord> {
  return {
    status,
    latency_ms: elapsed(call),
    first_byte_ms: piped.firstByteMs === undefined ? undefined : Math.round(piped.firstByteMs * 10) / 10,
    stream: sse,
    model_served: piped.tap.model(),
    usage: piped.tap.usage(),
  };
}

/** Answers from the recording; a model call with no recorded answer stops the agent (replay_miss). */
async function replayCall(state: GatewayState, call: Call, res: ServerResponse): Promise<void> {
  const { key, looseKey } = describeRequest(state, call);
  const taken = state.options.replay!.take(key, looseKey);
  if (!taken) {
    if (call.route.endpoint === 'other') return answerMinimally(state, call, res);
    const message = `replay_miss: no recorded answer for this ${call.route.protocol} ${call.route.endpoint} request (key ${key.slice(0, 12)})`;
    state.halt({ kind: 'replay_miss', message });
    return refuse(state, call, res, 400, message, 'replay_miss');
  }
  const recorded = taken.answer;
  const { response, contentType, status } = recorded;
  const text = typeof response === 'string' ? response : JSON.stringify(response ?? null);
  res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
  const sse = contentType?.includes('text/event-stream') ?? recorded.stream;
  const piped = await pipeBody([Buffer.from(text)], res, call.route.protocol, sse, call.started);
  Object.assign(call.record, {
    ...streamed(call, piped, sse, status),
    response,
    content_type: contentType,
    replayed: true,
    replay_match: taken.match === 'loose' ? 'loose' : undefined,
  });
  state.finish(call);
}

/** Routes no CLI needs an answer from (a model list, a probe) when nothing recorded one: an empty answer. */
function answerMinimally(state: GatewayState, call: Call, res: ServerResponse): void {
  const list = call.method === 'GET' && /\/models\/?$/.test(call.pathname);
  const status = list ? 200 : 404;
  const body = list
    ? { object: 'list', data: [], models: [] }
    : errorBody(call.route.protocol, 404, 'not recorded', 'not_found');
  answer(state, call, res, status, body, { replayed: true });
}

async function handle(state: GatewayState, req: IncomingMessage, res: ServerResponse, closing: AbortSignal) {
  const call = await newCall(state, req);
  const presented = presentedTokens(req.headers, call.search);
  // A connectivity probe carrying no key at all learns only that the gateway is there.
  if (call.method === 'HEAD' && presented.length === 0) {
    res.writeHead(200).end();
    return;
  }
  if (!tokenMatches(presented, state.options.token))
    return refuse(state, call, res, 401, 'invalid API key: use the token the gateway gave this trial', 'unauthorized');
  const over = budgetExhausted(state.options.budget, state.totals);
  if (over) {
    state.halt({ kind: 'budget_exceeded', message: over });
    return refuse(state, call, res, 403, `budget_exceeded: ${over}`, 'budget_exceeded');
  }
  if (state.options.replay) return replayCall(state, call, res);
  // The agent hanging up, the gateway closing or the caller's signal all abort the upstream request.
  const agentGone = new AbortController();
  res.once('close', () => agentGone.abort());
  const signals = [agentGone.signal, closing];
  if (state.options.signal) signals.push(state.options.signal);
  await forwardCall(state, call, res, AbortSignal.any(signals));
}

function listen(server: Server, target: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
}

/**
 * Starts a trial's model gateway on loopback (and on `socketPath` when given): it checks the agent's token,
 * forwards each call to the real endpoint with the real key (or answers from a recording), streams responses
 * through, counts usage and cost, enforces budgets and records every call.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  // An empty or short token would let an empty `Authorization: Bearer ` (or a guess) in.
  if (options.token.length < 16)
    throw new InfraError('the model gateway needs a token of 16 characters or more', { retryable: false });
  const state = new GatewayState(options);
  const closing = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const done = handle(state, req, res, closing.signal)
      .catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { message: `gateway: ${errorMessage(error)}` } });
        else res.destroy();
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const servers = [createServer(onRequest)];
  const host = options.host ?? '127.0.0.1';
  try {
    await listen(servers[0]!, { port: options.port ?? 0, host });
    if (options.socketPath) {
      await rm(options.socketPath, { force: true });
      servers.push(createServer(onRequest));
      await listen(servers[1]!, { path: options.socketPath });
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw new InfraError(`cannot start the model gateway: ${errorMessage(error)}`, { cause: error });
  }
  const { port } = servers[0]!.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    socketPath: options.socketPath,
    stopped: state.stop.signal,
    usage: () => ({ ...state.totals, modelsServed: [...state.totals.modelsServed] }),
    close: () => {
      closed ??= (async () => {
        closing.abort();
        await Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
              }),
          ),
        );
        await Promise.allSettled([...inFlight]);
        if (options.socketPath) await rm(options.socketPath, { force: true });
        await state.log.flush();
      })();
      return closed;
    },
  };
}
