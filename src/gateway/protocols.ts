import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayProtocol, Upstream } from './types.js';

/**
 * What each provider's wire protocol looks like at the gateway: which route a request is, where its key is,
 * how an error is shaped, and how the upstream URL and auth are built. Routes match on the path's end, so any
 * prefix a CLI puts in front (`/v1`, `/v1beta`, a proxy's own prefix) works.
 */

export type Endpoint =
  | 'messages'
  | 'count_tokens'
  | 'generate'
  | 'stream_generate'
  | 'gemini_count_tokens'
  | 'responses'
  | 'chat'
  | 'other';

export interface Route {
  protocol: GatewayProtocol;
  endpoint: Endpoint;
  /** The model named in the path (Gemini). */
  pathModel?: string | undefined;
}

const GEMINI_METHOD = /\/models\/([^/:?]+):(generateContent|streamGenerateContent|countTokens)$/;

/** The route of a request; `other` routes go to the protocol its key header or the configured upstreams suggest. */
export function routeOf(
  method: string,
  pathname: string,
  headers: IncomingHttpHeaders,
  search: URLSearchParams,
  configured: readonly GatewayProtocol[],
): Route {
  const path = pathname.replace(/\/+$/, '');
  if (method === 'POST') {
    if (path.endsWith('/messages/count_tokens')) return { protocol: 'anthropic', endpoint: 'count_tokens' };
    if (path.endsWith('/messages')) return { protocol: 'anthropic', endpoint: 'messages' };
    if (path.endsWith('/responses')) return { protocol: 'openai', endpoint: 'responses' };
    if (path.endsWith('/chat/completions')) return { protocol: 'openai', endpoint: 'chat' };
    const gemini = GEMINI_METHOD.exec(path);
    if (gemini) {
      const endpoint =
        gemini[2] === 'generateContent'
          ? 'generate'
          : gemini[2] === 'streamGenerateContent'
            ? 'stream_generate'
            : 'gemini_count_tokens';
      return { protocol: 'gemini', endpoint, pathModel: decodeURIComponent(gemini[1]!) };
    }
  }
  return { protocol: guessProtocol(path, headers, search, configured), endpoint: 'other' };
}

function guessProtocol(
  path: string,
  headers: IncomingHttpHeaders,
  search: URLSearchParams,
  configured: readonly GatewayProtocol[],
): GatewayProtocol {
  if (configured.length === 1) return configured[0]!;
  if (headers['x-goog-api-key'] !== undefined || search.has('key') || /\/v1(beta|alpha)\//.test(`${path}/`))
    return 'gemini';
  if (headers['x-api-key'] !== undefined || headers['anthropic-version'] !== undefined) return 'anthropic';
  return configured.includes('openai') || configured.length === 0 ? 'openai' : configured[0]!;
}

/** Every credential the request carries, wherever each protocol's clients put it. */
export function presentedTokens(headers: IncomingHttpHeaders, search: URLSearchParams): string[] {
  const tokens: string[] = [];
  const push = (value: string | string[] | undefined): void => {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) tokens.push(v.trim());
  };
  push(headers['x-api-key']);
  push(headers['x-goog-api-key']);
  const authorization = headers.authorization;
  if (authorization) push(authorization.replace(/^Bearer\s+/i, ''));
  for (const key of search.getAll('key')) tokens.push(key);
  return tokens;
}

/** Request headers never forwarded: hop-by-hop, length (the body may change), encodings (fetch decodes), keys. */
const DROPPED_REQUEST = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'accept-encoding',
  'expect',
  'x-api-key',
  'x-goog-api-key',
  'authorization',
]);

export function upstreamHeaders(incoming: IncomingHttpHeaders, protocol: GatewayProtocol, upstream: Upstream): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || DROPPED_REQUEST.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const auth =
    upstream.auth ?? (protocol === 'anthropic' ? 'x-api-key' : protocol === 'gemini' ? 'x-goog-api-key' : 'bearer');
  if (auth === 'bearer') headers.set('authorization', `Bearer ${upstream.apiKey}`);
  else headers.set(auth, upstream.apiKey);
  return headers;
}

/** Response headers not passed back: hop-by-hop, and length/encoding (fetch has decoded the body). */
export const DROPPED_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'trailer',
  'upgrade',
]);

/**
 * The upstream URL for a request path. OpenAI base URLs carry the version (`…/v1`) and clients send paths
 * relative to it, so a leading `/v1` the client added to the gateway's URL is dropped; Anthropic and Gemini
 * base URLs carry none and the path goes on whole. `key` is removed from the query (the real key goes in a header).
 */
export function upstreamUrl(protocol: GatewayProtocol, upstream: Upstream, pathname: string, search: URLSearchParams) {
  const base = upstream.baseUrl.replace(/\/+$/, '');
  const path = protocol === 'openai' ? pathname.replace(/^\/v1(?=\/|$)/, '') : pathname;
  const query = publicQuery(search);
  return `${base}${path}${query}`;
}

/** The query without the credential. */
export function publicQuery(search: URLSearchParams): string {
  const copy = new URLSearchParams(search);
  copy.delete('key');
  const text = copy.toString();
  return text === '' ? '' : `?${text}`;
}

/** What each CLI's *_BASE_URL should be to reach the gateway at `gatewayUrl` (the provider SDKs' conventions). */
export function agentBaseUrl(gatewayUrl: string, protocol: GatewayProtocol): string {
  return protocol === 'openai' ? `${gatewayUrl}/v1` : gatewayUrl;
}

/**
 * An error body in the provider's own shape, so the CLI reports it as it would the provider's. `code` is the
 * gateway's reason (unauthorized, budget_exceeded, replay_miss, upstream_failed), in OpenAI's `code`.
 */
export function errorBody(protocol: GatewayProtocol, status: number, message: string, code: string): unknown {
  if (protocol === 'anthropic') return { type: 'error', error: { type: anthropicType(status), message } };
  if (protocol === 'gemini') return { error: { code: status, message, status: geminiStatus(status) } };
  return { error: { message, type: status === 401 ? 'invalid_request_error' : 'gateway_error', code, param: null } };
}

function anthropicType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

function geminiStatus(status: number): string {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status >= 500) return 'UNAVAILABLE';
  return 'FAILED_PRECONDITION';
}

/** Whether the request asks for server-sent events. */
export function isStreamRequest(route: Route, body: unknown, search: URLSearchParams): boolean {
  if (route.endpoint === 'stream_generate') return search.get('alt') === 'sse';
  if (route.endpoint === 'messages' || route.endpoint === 'responses' || route.endpoint === 'chat')
    return typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true;
  return false;
}
