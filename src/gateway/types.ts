import type { Redactor } from '../util/secrets.js';
import type { JobBudget } from './budget.js';
import type { PriceTable } from './prices.js';
import type { ReplayStore } from './replay.js';

/** The wire protocols the gateway speaks; `openai` covers both Responses and Chat Completions. */
export type GatewayProtocol = 'anthropic' | 'gemini' | 'openai';

export const GATEWAY_PROTOCOLS: readonly GatewayProtocol[] = ['anthropic', 'gemini', 'openai'];

/**
 * A real endpoint and its key. `baseUrl` follows each provider SDK's convention, the same as the user's
 * `*_BASE_URL` variable: Anthropic and Gemini without a version (`https://api.anthropic.com`), OpenAI with it
 * (`https://api.openai.com/v1`).
 */
export interface Upstream {
  baseUrl: string;
  apiKey: string;
  /** How the key is sent; default per protocol: x-api-key (Anthropic), x-goog-api-key (Gemini), bearer (OpenAI). */
  auth?: 'x-api-key' | 'bearer' | 'x-goog-api-key' | undefined;
}

export interface RetryPolicy {
  /** Tries in all, the first included (1 = no retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface TrialBudget {
  /** Input + output tokens of the trial (cached input included in input). */
  maxTokens?: number | undefined;
  maxCostUsd?: number | undefined;
  /** Shared by every trial of a job. */
  job?: JobBudget | undefined;
}

export interface GatewayOptions {
  upstreams: Partial<Record<GatewayProtocol, Upstream>>;
  /** Per-trial secret the agent uses as its "API key" (newGatewayToken()). */
  token: string;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 0: an ephemeral port. */
  port?: number | undefined;
  /** Also listen on this unix socket (offline sandboxes reach it through a forwarder). */
  socketPath?: string | undefined;
  /** model_calls.jsonl: one redacted line per call. */
  callsFile?: string | undefined;
  /** Must know the upstream keys (and the token): everything written to callsFile goes through it. */
  redactor: Redactor;
  /** Default: the dated table of prices.ts (plus SKILL_EVAL_PRICES_FILE). */
  prices?: PriceTable | undefined;
  budget?: TrialBudget | undefined;
  /** Answer from a recording; upstream is never contacted. */
  replay?: ReplayStore | undefined;
  /** Default { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 }. */
  retry?: RetryPolicy | undefined;
  /**
   * Literal per-trial strings (workspace path, trial dir, home) replaced by a placeholder before a request's
   * content key is computed, so the same request of another trial matches its recording.
   */
  volatile?: readonly string[] | undefined;
  /** Aborting it fails calls in flight; close() is still needed. */
  signal?: AbortSignal | undefined;
}

export interface GatewayUsage {
  calls: number;
  /** Every input token, cached ones included. */
  inputTokens: number;
  /** Every output token, reasoning ones included. */
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  /** Undefined when no call had a price (a model missing from the table). */
  costUsd: number | undefined;
  /** True when some call's model had no price, so costUsd is a lower bound. */
  costIncomplete: boolean;
  retries: number;
  /** Calls answered with an error status (upstream's, or the gateway's own refusals). */
  failedCalls: number;
  /**
   * Of those, the ones the model service could not answer: 429 or 5xx after the retries, or no answer at all
   * (a connection error, a stream that broke off). Not a 4xx about the request, nor a gateway refusal.
   */
  unavailableCalls: number;
  /** Distinct model ids the upstream said served the calls, in order of first use. */
  modelsServed: string[];
}

/** Why the gateway wants the agent stopped. */
export type GatewayStop =
  | { kind: 'budget_exceeded'; message: string }
  | { kind: 'replay_miss'; message: string }
  /** 429/5xx/connection after all retries: an infra error. */
  | { kind: 'upstream_failed'; message: string };

export interface Gateway {
  /** http://HOST:PORT, without a path; agentBaseUrl() gives what each CLI's *_BASE_URL should be. */
  readonly url: string;
  readonly socketPath: string | undefined;
  /** Aborted, with a GatewayStop as its reason, when the agent must be stopped. */
  readonly stopped: AbortSignal;
  usage(): GatewayUsage;
  /** Stops listening, ends calls in flight, and waits until every call is written to callsFile. */
  close(): Promise<void>;
}

/** Token counts of one call. */
export interface CallUsage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
}

export const MODEL_CALL_SCHEMA = 'skill-eval/model-call@1';

/** One line of model_calls.jsonl. */
export interface ModelCallRecord {
  schema: typeof MODEL_CALL_SCHEMA;
  at: string;
  protocol: GatewayProtocol;
  /** messages, count_tokens, generate, stream_generate, count_tokens, responses, chat, other. */
  endpoint: string;
  method: string;
  /** Path (and query, without any key) as the agent sent it. */
  path: string;
  status: number;
  latency_ms: number;
  /** Time to the response's first body byte; undefined when there was none. */
  first_byte_ms?: number | undefined;
  stream: boolean;
  model_requested?: string | undefined;
  model_served?: string | undefined;
  usage?: CallUsage | undefined;
  cost_usd?: number | undefined;
  /** Upstream tries (0 when replayed or refused). */
  attempts: number;
  /** The request body (JSON, or text when not JSON), redacted. */
  request: unknown;
  /** The JSON body, or for a stream the raw event text; redacted. */
  response: unknown;
  /** True when the response was cut at the size cap (such a call cannot be replayed). */
  response_truncated?: boolean | undefined;
  /** content-type of the response, for replay. */
  content_type?: string | undefined;
  error?: string | undefined;
  /** Set when the gateway answered itself instead of forwarding. */
  refused?: GatewayStop['kind'] | 'unauthorized' | undefined;
  replayed?: boolean | undefined;
  /** sha256 of the request's normalised content (replay.ts). */
  request_key: string;
  /** The same with every run of digits alike: replay's fallback (replay.ts requestKeys). */
  request_loose_key?: string | undefined;
  /** Replayed through the loose key only: the request differed from its recording in numbers. */
  replay_match?: 'loose' | undefined;
}
