import type { CallUsage, GatewayProtocol } from './types.js';

/**
 * Token usage and the served model, read from the provider's own response: a JSON body, or the SSE events of a
 * stream as they pass. Conventions (the same for every protocol): `input_tokens` counts every input token,
 * cached reads and cache writes included; `cached_input_tokens` is the part read from the prompt cache;
 * `output_tokens` counts every output token, reasoning included; `reasoning_tokens` is that part.
 */
export interface UsageReader {
  /** A whole JSON response body (a Gemini stream without `alt=sse` is a JSON array: every element is read). */
  json(body: unknown): void;
  /** One SSE event's data (JSON text), with its `event:` name when the protocol sends one. */
  event(data: string, name: string | undefined): void;
  /** Undefined when the response carried no usage (errors, count_tokens, other routes). */
  usage(): CallUsage | undefined;
  model(): string | undefined;
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What one piece of a response says; undefined fields leave the running figure as it is. */
interface Seen {
  input?: number | undefined;
  cached?: number | undefined;
  output?: number | undefined;
  reasoning?: number | undefined;
  model?: string | undefined;
}

function anthropicUsage(usage: unknown): Seen {
  const u = obj(usage);
  const uncached = num(u.input_tokens);
  const read = num(u.cache_read_input_tokens);
  const written = num(u.cache_creation_input_tokens);
  const input =
    uncached === undefined && read === undefined && written === undefined
      ? undefined
      : (uncached ?? 0) + (read ?? 0) + (written ?? 0);
  return { input, cached: read, output: num(u.output_tokens) };
}

/** Anthropic: message_start carries input and cache figures, message_delta the (cumulative) output. */
function anthropic(piece: Json): Seen {
  if (piece.type === 'message_start') {
    const message = obj(piece.message);
    return { ...anthropicUsage(message.usage), model: str(message.model) };
  }
  // Cumulative; newer API versions restate the input figures here too (absent ones stay as message_start said).
  if (piece.type === 'message_delta') return anthropicUsage(piece.usage);
  if (piece.type === 'message') return { ...anthropicUsage(piece.usage), model: str(piece.model) };
  return {};
}

/** Gemini: every chunk may carry usageMetadata (cumulative); thoughts are output the candidates count leaves out. */
function gemini(piece: Json): Seen {
  const model = str(piece.modelVersion);
  const meta = piece.usageMetadata;
  if (meta === undefined) return { model };
  const u = obj(meta);
  const prompt = num(u.promptTokenCount);
  const toolPrompt = num(u.toolUsePromptTokenCount) ?? 0;
  const candidates = num(u.candidatesTokenCount) ?? 0;
  const thoughts = num(u.thoughtsTokenCount) ?? 0;
  return {
    input: prompt === undefined ? undefined : prompt + toolPrompt,
    cached: num(u.cachedContentTokenCount) ?? 0,
    output: candidates + thoughts,
    reasoning: thoughts,
    model,
  };
}

function openaiUsage(usage: unknown): Seen {
  if (usage === undefined || usage === null) return {};
  const u = obj(usage);
  return {
    input: num(u.input_tokens) ?? num(u.prompt_tokens),
    cached: num(obj(u.input_tokens_details).cached_tokens) ?? num(obj(u.prompt_tokens_details).cached_tokens) ?? 0,
    output: num(u.output_tokens) ?? num(u.completion_tokens),
    reasoning:
      num(obj(u.output_tokens_details).reasoning_tokens) ?? num(obj(u.completion_tokens_details).reasoning_tokens) ?? 0,
  };
}

/**
 * OpenAI: a Responses body (or the `response` of response.completed / .incomplete / .failed events), or a Chat
 * Completions body / chunk (its usage chunk comes last, when stream_options.include_usage is set).
 */
function openai(piece: Json): Seen {
  const response = typeof piece.type === 'string' && piece.type.startsWith('response.') ? obj(piece.response) : piece;
  return { ...openaiUsage(response.usage), model: str(response.model) };
}

const READERS: Record<GatewayProtocol, (piece: Json) => Seen> = { anthropic, gemini, openai };

export function usageReader(protocol: GatewayProtocol): UsageReader {
  const read = READERS[protocol];
  let input: number | undefined;
  let cached = 0;
  let output: number | undefined;
  let reasoning = 0;
  let model: string | undefined;
  const take = (piece: unknown): void => {
    const seen = read(obj(piece));
    if (seen.input !== undefined) input = seen.input;
    if (seen.cached !== undefined) cached = seen.cached;
    if (seen.output !== undefined) output = seen.output;
    if (seen.reasoning !== undefined) reasoning = seen.reasoning;
    if (seen.model !== undefined) model = seen.model;
  };
  return {
    json(body) {
      for (const piece of Array.isArray(body) ? body : [body]) take(piece);
    },
    event(data) {
      try {
        take(JSON.parse(data));
      } catch {
        // `[DONE]`, keep-alive comments and other non-JSON data carry no usage
      }
    },
    usage() {
      if (input === undefined && output === undefined) return undefined;
      return {
        input_tokens: input ?? 0,
        output_tokens: output ?? 0,
        cached_input_tokens: cached,
        reasoning_tokens: reasoning,
      };
    },
    model: () => model,
  };
}
