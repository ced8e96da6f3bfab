import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { InfraError, UsageError } from '../errors.js';
import { killGroup, runInProcessGroup } from '../util/process-group.js';

/**
 * The model under test: an OpenAI-compatible chat endpoint, a model a command serves, or a canary
 * (`gold` answers from the dataset, `empty` answers nothing) that needs no network at all.
 */
export type LlmSpec =
  | string
  | { baseUrl: string; model: string; apiKey?: string | undefined }
  | {
      serve: {
        command: string;
        baseUrl: string;
        model: string;
        apiKey?: string | undefined;
        readyTimeoutSec?: number | undefined;
        cwd?: string | undefined;
      };
    };

export const CANARIES = ['gold', 'empty'] as const;
export type CanaryName = (typeof CANARIES)[number];

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Images (data: URLs) sent after the text, for vision models (the browser driver's screenshots). */
  images?: string[] | undefined;
}

/** A message as the OpenAI chat API takes it: text, or text and image parts. */
function toOpenAiMessage(message: ChatMessage): OpenAI.Chat.Completions.ChatCompletionMessageParam {
  if (!message.images?.length || message.role !== 'user') return { role: message.role, content: message.content };
  return {
    role: 'user',
    content: [
      { type: 'text', text: message.content },
      ...message.images.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
    ],
  };
}

export interface CompletionOptions {
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  seed?: number | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** What the gold canary answers for this request, when the caller knows it. */
  gold?: string | undefined;
}

export interface ModelDescription {
  name: string;
  kind: 'canary' | 'endpoint' | 'served';
  base_url?: string | undefined;
}

export interface ModelUnderTest {
  readonly description: ModelDescription;
  readonly canary: CanaryName | undefined;
  /** Secrets to redact from everything written (the API key). */
  readonly secrets: string[];
  complete(messages: ChatMessage[], options?: CompletionOptions): Promise<string>;
  close(): Promise<void>;
}

/** Looks a gold answer up from request content, for canaries behind the gateway (command driver). */
export type GoldLookup = (messages: ChatMessage[]) => string | undefined;

class CanaryModel implements ModelUnderTest {
  readonly secrets: string[] = [];
  readonly description: ModelDescription;
  constructor(
    readonly canary: CanaryName,
    private readonly lookup: GoldLookup | undefined,
  ) {
    this.description = { name: canary, kind: 'canary' };
  }
  async complete(messages: ChatMessage[], options: CompletionOptions = {}): Promise<string> {
    if (this.canary === 'empty') return '';
    const gold = options.gold ?? this.lookup?.(messages);
    if (gold === undefined)
      throw new UsageError('the gold canary has no answer for this prompt', {
        hint: 'the contract needs canary.gold_file (or a driver that knows its gold answers) for --llm gold',
      });
    return gold;
  }
  async close(): Promise<void> {}
}

class EndpointModel implements ModelUnderTest {
  readonly canary = undefined;
  readonly description: ModelDescription;
  readonly secrets: string[];
  private readonly client: OpenAI;
  private stop: (() => Promise<void>) | undefined;
  constructor(
    baseUrl: string,
    readonly model: string,
    apiKey: string | undefined,
    kind: 'endpoint' | 'served',
    stop?: () => Promise<void>,
  ) {
    this.description = { name: model, kind, base_url: baseUrl };
    this.secrets = apiKey ? [apiKey] : [];
    // Local servers ignore the key, but the client insists on one.
    this.client = new OpenAI({ baseURL: baseUrl, apiKey: apiKey ?? 'no-key', maxRetries: 2, timeout: 120_000 });
    this.stop = stop;
  }
  async complete(messages: ChatMessage[], options: CompletionOptions = {}): Promise<string> {
    try {
      const response = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: messages.map(toOpenAiMessage),
          ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
        },
        {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.timeoutMs !== undefined ? { timeout: Math.round(options.timeoutMs) } : {}),
        },
      );
      return response.choices[0]?.message?.content ?? '';
    } catch (error) {
      if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
        throw new InfraError(
          `model ${this.model} at ${this.description.base_url}: authentication failed (HTTP ${error.status})`,
          {
            cause: error,
            retryable: false,
            hint: 'set SKILL_EVAL_MODEL_API_KEY or OPENAI_API_KEY to a key this endpoint accepts',
          },
        );
      }
      if (error instanceof OpenAI.NotFoundError)
        throw new UsageError(`model ${this.model} at ${this.description.base_url}: not found (HTTP 404)`, {
          cause: error,
        });
      throw new InfraError(`model ${this.model} at ${this.description.base_url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  async close(): Promise<void> {
    const stop = this.stop;
    this.stop = undefined;
    await stop?.();
  }
}

/** Polls `GET {baseUrl}/models` until it answers 200; fails early when the server command has exited. */
export async function waitForModels(baseUrl: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new InfraError(`the model server command exited before ${baseUrl} answered`);
    const ok = await fetch(`${baseUrl.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new InfraError(
    `the model server at ${baseUrl} did not answer GET /models within ${Math.round(timeoutMs / 1000)} s`,
  );
}

export interface OpenModelOptions {
  /** Default base URL for a model name: `--base-url`, else OPENAI_BASE_URL. */
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  goldLookup?: GoldLookup | undefined;
}

/** Opens the model under test. `gold` and `empty` are canaries; any other string is a model at the base URL. */
export async function openModel(llm: LlmSpec, options: OpenModelOptions = {}): Promise<ModelUnderTest> {
  if (typeof llm === 'string') {
    if ((CANARIES as readonly string[]).includes(llm)) return new CanaryModel(llm as CanaryName, options.goldLookup);
    const baseUrl = options.baseUrl ?? process.env.SKILL_EVAL_MODEL_BASE_URL ?? process.env.OPENAI_BASE_URL;
    if (!baseUrl)
      throw new UsageError(`--llm ${llm}: no endpoint for this model`, {
        hint: 'give --base-url URL (an OpenAI-compatible /v1 endpoint) or set OPENAI_BASE_URL; or use a canary: --llm gold | empty',
      });
    return new EndpointModel(
      baseUrl,
      llm,
      options.apiKey ?? process.env.SKILL_EVAL_MODEL_API_KEY ?? process.env.OPENAI_API_KEY,
      'endpoint',
    );
  }
  if ('baseUrl' in llm) return new EndpointModel(llm.baseUrl, llm.model, llm.apiKey ?? options.apiKey, 'endpoint');
  const serve = llm.serve;
  let pgid: number | undefined;
  let exited = false;
  const running = runInProcessGroup(serve.command, {
    cwd: serve.cwd ?? process.cwd(),
    env: { ...(process.env as Record<string, string>) },
    killGraceMs: 3000,
    onGroup: (id) => {
      pgid = id;
    },
  }).finally(() => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (pgid !== undefined) await killGroup(pgid, 3000);
    await running.catch(() => undefined);
  };
  try {
    await waitForModels(serve.baseUrl, (serve.readyTimeoutSec ?? 120) * 1000, () => exited);
  } catch (error) {
    await stop();
    throw error;
  }
  return new EndpointModel(serve.baseUrl, serve.model, serve.apiKey, 'served', stop);
}

export interface GatewayCall {
  at: string;
  messages: ChatMessage[];
  response: string;
  error?: string | undefined;
}

/**
 * A local OpenAI-compatible endpoint on 127.0.0.1 in front of the model under test, for shell stages.
 * It hides the real key (stages get a per-run token), serves the canaries, and records every call, so the
 * runner can tell whether the samples a rollout wrote came from the model at all.
 */
export class ModelGateway {
  readonly calls: GatewayCall[] = [];
  readonly token = `skill-eval-${randomBytes(12).toString('hex')}`;
  private server: Server | undefined;
  baseUrl = '';

  constructor(private readonly model: ModelUnderTest) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}/v1`;
    return this.baseUrl;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const path = (request.url ?? '').split('?')[0]!.replace(/^\/v1/, '');
    if (request.headers.authorization !== `Bearer ${this.token}`)
      return send(401, { error: { message: 'invalid api key', type: 'invalid_request_error' } });
    if (request.method === 'GET' && path === '/models')
      return send(200, {
        object: 'list',
        data: [{ id: this.model.description.name, object: 'model', owned_by: 'skill-eval' }],
      });
    if (request.method !== 'POST' || path !== '/chat/completions')
      return send(404, { error: { message: `no route ${request.method} ${path}` } });
    let body: { messages?: unknown; max_tokens?: number; temperature?: number; seed?: number; stream?: boolean };
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return send(400, { error: { message: 'body is not JSON' } });
    }
    const messages = (Array.isArray(body.messages) ? body.messages : []).map(
      (m: { role?: string; content?: unknown }) => ({
        role: (m.role ?? 'user') as ChatMessage['role'],
        content:
          typeof m.content === 'string'
            ? m.content
            : Array.isArray(m.content)
              ? m.content.map((part: { text?: string }) => part.text ?? '').join('')
              : '',
      }),
    );
    let text: string;
    try {
      text = await this.model.complete(messages, {
        maxTokens: body.max_tokens,
        temperature: body.temperature,
        seed: body.seed,
      });
    } catch (error) {
      this.calls.push({ at: new Date().toISOString(), messages, response: '', error: (error as Error).message });
      return send(502, { error: { message: (error as Error).message, type: 'upstream_error' } });
    }
    this.calls.push({ at: new Date().toISOString(), messages, response: text });
    const id = `chatcmpl-${randomBytes(6).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const modelName = this.model.description.name;
    if (body.stream) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: modelName, choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }] })}\n\n`,
      );
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: modelName, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
      );
      response.end('data: [DONE]\n\n');
      return;
    }
    send(200, {
      id,
      object: 'chat.completion',
      created,
      model: modelName,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
