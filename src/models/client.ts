import { errorMessage, InfraError } from '../errors.js';
import type { ModelProvider } from './providers.js';

/**
 * One prompt → one answer, over a provider's own wire protocol (plain fetch, no SDK): Anthropic Messages,
 * Gemini generateContent, OpenAI-compatible chat completions (local servers too). Runs on the host only.
 */

export interface CompleteRequest {
  provider: ModelProvider;
  model: string;
  /** The provider's API root (`https://api.anthropic.com`, an OpenAI-compatible `…/v1`). */
  baseUrl: string;
  /** Optional for OpenAI-compatible local servers. */
  apiKey?: string | undefined;
  system: string;
  prompt: string;
  maxTokens?: number | undefined;
  /** Per call; default 120 s. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface Completion {
  text: string;
  status: number;
  usage?: { inputTokens: number; outputTokens: number } | undefined;
}

/** What was sent and received, for the record (headers left out: they hold the key). */
export interface WireExchange {
  url: string;
  body: unknown;
  status?: number | undefined;
  response?: unknown;
}

interface WireFormat {
  url(request: CompleteRequest): string;
  headers(request: CompleteRequest): Record<string, string>;
  body(request: CompleteRequest): unknown;
  read(response: Record<string, unknown>): Completion['usage'] & { text: string | undefined };
}

const trim = (url: string): string => url.replace(/\/+$/, '');

const asRecord = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

const WIRE: Record<ModelProvider, WireFormat> = {
  anthropic: {
    url: (r) => `${trim(r.baseUrl)}/v1/messages`,
    headers: (r) => ({ 'anthropic-version': '2023-06-01', ...(r.apiKey ? { 'x-api-key': r.apiKey } : {}) }),
    body: (r) => ({
      model: r.model,
      max_tokens: r.maxTokens ?? 1024,
      system: r.system,
      messages: [{ role: 'user', content: r.prompt }],
    }),
    read: (response) => {
      const usage = asRecord(response.usage);
      const texts = asArray(response.content)
        .map(asRecord)
        .filter((block) => block.type === 'text' && typeof block.text === 'string')
        .map((block) => block.text as string);
      return {
        text: texts.length > 0 ? texts.join('') : undefined,
        inputTokens: count(usage.input_tokens) + count(usage.cache_read_input_tokens),
        outputTokens: count(usage.output_tokens),
      };
    },
  },
  gemini: {
    url: (r) => `${trim(r.baseUrl)}/v1beta/models/${encodeURIComponent(r.model)}:generateContent`,
    headers: (r): Record<string, string> => (r.apiKey ? { 'x-goog-api-key': r.apiKey } : {}),
    body: (r) => ({
      systemInstruction: { parts: [{ text: r.system }] },
      contents: [{ role: 'user', parts: [{ text: r.prompt }] }],
      generationConfig: { temperature: 0, maxOutputTokens: r.maxTokens ?? 1024 },
    }),
    read: (response) => {
      const usage = asRecord(response.usageMetadata);
      const parts = asArray(asRecord(asRecord(asArray(response.candidates)[0]).content).parts).map(asRecord);
      const texts = parts.filter((part) => typeof part.text === 'string').map((part) => part.text as string);
      return {
        text: texts.length > 0 ? texts.join('') : undefined,
        inputTokens: count(usage.promptTokenCount),
        outputTokens: count(usage.candidatesTokenCount),
      };
    },
  },
  openai: {
    // OPENAI_BASE_URL conventionally ends in /v1; a bare server root (`http://127.0.0.1:8080`) gets it added.
    url: (r) => `${/\/v\d+[a-z]*$/.test(trim(r.baseUrl)) ? trim(r.baseUrl) : `${trim(r.baseUrl)}/v1`}/chat/completions`,
    headers: (r): Record<string, string> => (r.apiKey ? { authorization: `Bearer ${r.apiKey}` } : {}),
    body: (r) => ({
      model: r.model,
      temperature: 0,
      max_tokens: r.maxTokens ?? 1024,
      messages: [
        { role: 'system', content: r.system },
        { role: 'user', content: r.prompt },
      ],
    }),
    read: (response) => {
      const usage = asRecord(response.usage);
      const content = asRecord(asRecord(asArray(response.choices)[0]).message).content;
      return {
        text: typeof content === 'string' ? content : undefined,
        inputTokens: count(usage.prompt_tokens),
        outputTokens: count(usage.completion_tokens),
      };
    },
  },
};

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Sends one request; `onExchange` sees what went over the wire (also for a failure). An HTTP error, a timeout,
 * an unreadable body or an answer without text throws InfraError (not retryable: the caller decides).
 */
export async function complete(
  request: CompleteRequest,
  onExchange: (exchange: WireExchange) => void = () => {},
): Promise<Completion> {
  const wire = WIRE[request.provider];
  const exchange: WireExchange = { url: wire.url(request), body: wire.body(request) };
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  try {
    const response = await fetch(exchange.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...wire.headers(request) },
      body: JSON.stringify(exchange.body),
      signal,
    });
    exchange.status = response.status;
    const text = await response.text();
    exchange.response = parseOrText(text);
    if (!response.ok)
      throw failure(`${request.provider} answered HTTP ${response.status}: ${errorText(exchange.response)}`);
    const read = wire.read(asRecord(exchange.response));
    if (read.text === undefined) throw failure(`${request.provider} answered without any text`);
    return {
      text: read.text,
      status: response.status,
      usage: { inputTokens: read.inputTokens, outputTokens: read.outputTokens },
    };
  } catch (error) {
    if (error instanceof InfraError) throw error;
    if (timeout.aborted) throw failure(`${request.provider} did not answer within ${timeoutMs} ms`);
    throw failure(`calling ${exchange.url} failed: ${errorMessage(error)}`, error);
  } finally {
    onExchange(exchange);
  }
}

function failure(message: string, cause?: unknown): InfraError {
  return new InfraError(message, { cause, retryable: false });
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorText(body: unknown): string {
  const message = asRecord(asRecord(body).error).message ?? asRecord(body).message;
  const text = typeof message === 'string' ? message : typeof body === 'string' ? body : JSON.stringify(body);
  return text.slice(0, 300);
}
