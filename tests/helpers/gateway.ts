import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startGateway } from '../../src/gateway/gateway.js';
import type { Gateway, GatewayOptions, GatewayProtocol, ModelCallRecord } from '../../src/gateway/types.js';
import { Redactor } from '../../src/util/secrets.js';
import { startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { startGeminiServer } from '../fixtures/model-servers/gemini.js';
import { startChatServer } from '../fixtures/model-servers/openai-chat.js';
import { startResponsesServer } from '../fixtures/model-servers/openai-responses.js';
import type { ModelServer, Script } from '../fixtures/model-servers/server.js';
import { tempDir } from './trials.js';

/** The gateway's test fixtures: the four wire protocols' scripted servers as upstreams, and a request for each. */

export const REAL_KEY = 'sk-real-upstream-key-0123456789';
export const TOKEN = 'sk-skill-eval-test-token-abcdefghij';

export type Wire = 'anthropic' | 'gemini' | 'responses' | 'chat';
export const WIRES: Wire[] = ['anthropic', 'gemini', 'responses', 'chat'];

export const PROTOCOL: Record<Wire, GatewayProtocol> = {
  anthropic: 'anthropic',
  gemini: 'gemini',
  responses: 'openai',
  chat: 'openai',
};

const say: Script = () => ({ kind: 'text', text: 'hello from the scripted model' });

export async function startUpstream(wire: Wire, script: Script = say): Promise<ModelServer> {
  if (wire === 'anthropic') return startAnthropicServer(script);
  if (wire === 'gemini') return startGeminiServer(script);
  if (wire === 'responses') return startResponsesServer(script);
  return startChatServer(script);
}

/** The upstream base URL as the user's *_BASE_URL would give it (OpenAI's carries /v1). */
export function upstreamBase(wire: Wire, server: { url: string }): string {
  return PROTOCOL[wire] === 'openai' ? `${server.url}/v1` : server.url;
}

export interface WireRequest {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * One agent-loop request of each wire (it offers the CLI's shell tool, so the scripted server reports the
 * "main turn" usage with cached tokens), with `token` where that CLI puts its key. `text` varies the content.
 */
export function wireRequest(wire: Wire, token: string, options: { stream?: boolean; text?: string } = {}): WireRequest {
  const stream = options.stream ?? true;
  const text = options.text ?? 'fix the lint errors';
  const json = { 'content-type': 'application/json' };
  if (wire === 'anthropic')
    return {
      path: '/v1/messages',
      headers: { ...json, 'x-api-key': token, 'anthropic-version': '2023-06-01' },
      body: {
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        stream,
        tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: text }],
      },
    };
  if (wire === 'gemini')
    return {
      path: `/v1beta/models/gemini-2.5-flash:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
      headers: { ...json, 'x-goog-api-key': token },
      body: {
        contents: [{ role: 'user', parts: [{ text }] }],
        tools: [{ functionDeclarations: [{ name: 'run_shell_command' }] }],
      },
    };
  if (wire === 'responses')
    return {
      path: '/v1/responses',
      headers: { ...json, authorization: `Bearer ${token}` },
      body: {
        model: 'gpt-5',
        stream: true,
        input: [{ role: 'user', content: text }],
        tools: [{ type: 'function', name: 'exec_command' }],
      },
    };
  return {
    path: '/v1/chat/completions',
    headers: { ...json, authorization: `Bearer ${token}` },
    body: {
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: text }],
      tools: [{ type: 'function', function: { name: 'bash' } }],
    },
  };
}

export async function send(gateway: { url: string }, request: WireRequest): Promise<Response> {
  return fetch(`${gateway.url}${request.path}`, {
    method: 'POST',
    headers: request.headers,
    body: JSON.stringify(request.body),
  });
}

export interface TestGateway {
  gateway: Gateway;
  callsFile: string;
  calls(): Promise<ModelCallRecord[]>;
  rawCalls(): Promise<string>;
}

/** A gateway in front of `upstreams`, recording to a fresh model_calls.jsonl. */
export async function testGateway(
  upstreams: GatewayOptions['upstreams'],
  extra: Partial<GatewayOptions> = {},
): Promise<TestGateway> {
  const callsFile = join(await tempDir('gateway'), 'model_calls.jsonl');
  const gateway = await startGateway({
    upstreams,
    token: TOKEN,
    callsFile,
    redactor: new Redactor([REAL_KEY, TOKEN]),
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 50 },
    ...extra,
  });
  const rawCalls = async (): Promise<string> => {
    await gateway.close();
    return readFile(callsFile, 'utf8').catch(() => '');
  };
  return {
    gateway,
    callsFile,
    rawCalls,
    calls: async () =>
      (await rawCalls())
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as ModelCallRecord),
  };
}

/** A hand-written upstream on 127.0.0.1 (for behaviour the scripted servers do not have: holding, failing). */
export async function serveLocally(handler: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
