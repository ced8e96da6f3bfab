import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentBaseUrl } from '../../src/gateway/protocols.js';
import { Redactor } from '../../src/util/secrets.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import {
  PROTOCOL,
  REAL_KEY,
  send,
  serveLocally,
  startUpstream,
  TOKEN,
  testGateway,
  upstreamBase,
  WIRES,
  wireRequest,
} from '../helpers/gateway.js';
import { tempDir } from '../helpers/trials.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function upstream(wire: (typeof WIRES)[number]): Promise<ModelServer> {
  const server = await startUpstream(wire);
  cleanup.push(() => server.close());
  return server;
}

/** The key the upstream received, wherever its protocol carries it. */
function keyReceived(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['x-api-key'] ?? headers['x-goog-api-key'] ?? headers.authorization;
  return typeof value === 'string' ? value.replace(/^Bearer /, '') : undefined;
}

describe('gateway: the four wire protocols', () => {
  for (const wire of WIRES) {
    it(`${wire}: forwards with the real key, streams the answer back and counts what the server sent`, async () => {
      const server = await upstream(wire);
      const protocol = PROTOCOL[wire];
      const t = await testGateway({ [protocol]: { baseUrl: upstreamBase(wire, server), apiKey: REAL_KEY } });
      cleanup.push(() => t.gateway.close());

      const response = await send(t.gateway, wireRequest(wire, TOKEN));
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).toContain('hello from the scripted model');
      expect(server.requests).toHaveLength(1);
      expect(keyReceived(server.requests[0]!.headers)).toBe(REAL_KEY);

      const sent = server.requests[0]!.usage!;
      const expected = { input_tokens: sent.input, output_tokens: sent.output, cached_input_tokens: sent.cached };
      expect(sent.cached).toBeGreaterThan(0);
      const usage = t.gateway.usage();
      expect(usage).toMatchObject({
        calls: 1,
        inputTokens: sent.input,
        outputTokens: sent.output,
        cachedInputTokens: sent.cached,
        retries: 0,
        failedCalls: 0,
      });
      const raw = await t.rawCalls();
      expect(raw).not.toContain(REAL_KEY);
      expect(raw).not.toContain(TOKEN);
      const [call] = raw
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(call).toMatchObject({
        schema: 'skill-eval/model-call@1',
        protocol,
        status: 200,
        stream: true,
        usage: expected,
        attempts: 1,
      });
      expect(call!.model_served).toBe(
        wire === 'gemini' ? 'gemini-2.5-flash' : wire === 'anthropic' ? 'claude-sonnet-4-5' : 'gpt-5',
      );
      expect(usage.modelsServed).toEqual([call!.model_served]);
      expect(typeof call!.response).toBe('string');
      expect(call!.cost_usd).toBeGreaterThan(0);
      expect(usage.costUsd).toBe(call!.cost_usd);
    });
  }

  it('reads usage from JSON answers too (Anthropic and Gemini without streaming)', async () => {
    const anthropic = await upstream('anthropic');
    const gemini = await upstream('gemini');
    const t = await testGateway({
      anthropic: { baseUrl: anthropic.url, apiKey: REAL_KEY },
      gemini: { baseUrl: gemini.url, apiKey: REAL_KEY },
    });
    cleanup.push(() => t.gateway.close());
    for (const wire of ['anthropic', 'gemini'] as const) {
      const response = await send(t.gateway, wireRequest(wire, TOKEN, { stream: false }));
      expect(response.status).toBe(200);
      expect(((await response.json()) as object) !== undefined).toBe(true);
    }
    const sentTotal = [anthropic.sentUsage(), gemini.sentUsage()];
    expect(t.gateway.usage()).toMatchObject({
      calls: 2,
      inputTokens: sentTotal[0]!.input + sentTotal[1]!.input,
      cachedInputTokens: sentTotal[0]!.cached + sentTotal[1]!.cached,
      outputTokens: sentTotal[0]!.output + sentTotal[1]!.output,
    });
    const calls = await t.calls();
    expect(calls.map((c) => [c.protocol, c.stream])).toEqual([
      ['anthropic', false],
      ['gemini', false],
    ]);
    const sent = [anthropic.requests[0]!.usage!, gemini.requests[0]!.usage!];
    expect(calls.map((c) => c.usage)).toEqual(
      sent.map((s) => ({
        input_tokens: s.input,
        output_tokens: s.output,
        cached_input_tokens: s.cached,
        reasoning_tokens: 0,
      })),
    );
  });

  it('asks a Chat Completions stream for its usage chunk', async () => {
    const server = await upstream('chat');
    const t = await testGateway({ openai: { baseUrl: `${server.url}/v1`, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    await (await send(t.gateway, wireRequest('chat', TOKEN))).text();
    expect(server.requests[0]!.body).toMatchObject({ stream_options: { include_usage: true } });
  });

  it('will not start with a short token', async () => {
    await expect(testGateway({}, { token: '' })).rejects.toThrow(/token of 16 characters/);
  });

  it('gives each CLI the base URL its SDK expects', () => {
    expect(agentBaseUrl('http://127.0.0.1:1', 'openai')).toBe('http://127.0.0.1:1/v1');
    expect(agentBaseUrl('http://127.0.0.1:1', 'anthropic')).toBe('http://127.0.0.1:1');
  });
});

describe('gateway: auth', () => {
  it('refuses a wrong or missing token with a provider-shaped 401 and forwards nothing', async () => {
    const anthropic = await upstream('anthropic');
    const gemini = await upstream('gemini');
    const t = await testGateway({
      anthropic: { baseUrl: anthropic.url, apiKey: REAL_KEY },
      gemini: { baseUrl: gemini.url, apiKey: REAL_KEY },
    });
    cleanup.push(() => t.gateway.close());
    const wrong = await send(t.gateway, wireRequest('anthropic', 'sk-wrong-token'));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const missing = wireRequest('gemini', TOKEN);
    delete missing.headers['x-goog-api-key'];
    const refused = await send(t.gateway, missing);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    expect((await send(t.gateway, wireRequest('anthropic', ''))).status).toBe(401);
    // The real key is no answer either: only the trial's token opens the gateway.
    expect((await send(t.gateway, wireRequest('anthropic', REAL_KEY))).status).toBe(401);
    expect(anthropic.requests).toHaveLength(0);
    expect(gemini.requests).toHaveLength(0);
    expect(t.gateway.usage().calls).toBe(0);
    expect(t.gateway.stopped.aborted).toBe(false);
    // Gemini's `?key=` form is accepted, and stripped before forwarding.
    const byQuery = wireRequest('gemini', TOKEN);
    delete byQuery.headers['x-goog-api-key'];
    byQuery.path += `&key=${TOKEN}`;
    expect((await send(t.gateway, byQuery)).status).toBe(200);
    expect(gemini.requests[0]!.url).not.toContain('key=');
    const raw = await t.rawCalls();
    expect(raw).not.toContain(REAL_KEY);
    expect(raw).not.toContain(TOKEN);
  });
});

describe('gateway: redaction', () => {
  it('keeps the token and the real key out of model_calls.jsonl even when the caller redacts neither', async () => {
    const echo = await serveLocally((req, res) => {
      req.resume();
      // An upstream that repeats a key back (an error message quoting it, say).
      const said = { type: 'message', model: 'm', content: [{ type: 'text', text: `key ${REAL_KEY}` }], usage: {} };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(said));
    });
    cleanup.push(echo.close);
    const t = await testGateway({ anthropic: { baseUrl: echo.url, apiKey: REAL_KEY } }, { redactor: new Redactor([]) });
    cleanup.push(() => t.gateway.close());
    await (
      await send(t.gateway, wireRequest('anthropic', TOKEN, { text: `my token is ${TOKEN}`, stream: false }))
    ).text();
    const raw = await t.rawCalls();
    expect(raw).toContain('[REDACTED]');
    expect(raw).not.toContain(REAL_KEY);
    expect(raw).not.toContain(TOKEN);
  });
});

describe('gateway: streaming', () => {
  it('passes the first event to the agent before the upstream has finished', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await serveLocally((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { model: 'm', usage: { input_tokens: 7 } } })}\n\n`,
      );
      void held.then(() => {
        res.end(
          `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', usage: { output_tokens: 3 } })}\n\n`,
        );
      });
    });
    cleanup.push(async () => {
      release();
      await slow.close();
    });
    const url = slow.url;
    const t = await testGateway({ anthropic: { baseUrl: url, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());

    const response = await send(t.gateway, wireRequest('anthropic', TOKEN));
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('message_start');
    expect(first).not.toContain('message_delta');
    release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect(rest).toContain('message_delta');
    const [call] = await t.calls();
    expect(call!.usage).toEqual({ input_tokens: 7, output_tokens: 3, cached_input_tokens: 0, reasoning_tokens: 0 });
    expect(call!.first_byte_ms).toBeLessThan(call!.latency_ms);
  });
});

describe('gateway: other routes and the unix socket', () => {
  it('passes other routes (a model list) through, authenticated', async () => {
    const server = await upstream('responses');
    const t = await testGateway({ openai: { baseUrl: `${server.url}/v1`, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    const list = await fetch(`${agentBaseUrl(t.gateway.url, 'openai')}/models`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ object: 'list' });
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/v1/models' });
    expect(keyReceived(server.requests[0]!.headers)).toBe(REAL_KEY);
    expect((await fetch(`${t.gateway.url}/v1/models`)).status).toBe(401);
    // A bare connectivity probe is answered by the gateway itself.
    expect((await fetch(t.gateway.url, { method: 'HEAD' })).status).toBe(200);
    expect(server.requests).toHaveLength(1);
    const [call] = await t.calls();
    expect(call).toMatchObject({ endpoint: 'other', method: 'GET', status: 200 });
  });

  it('passes token counting through without counting usage', async () => {
    // The scripted server answers count_tokens as a message; a counter of our own answers it as the API does.
    const paths: string[] = [];
    const server = await serveLocally((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: 100 }));
    });
    cleanup.push(server.close);
    const t = await testGateway({ anthropic: { baseUrl: server.url, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    const { headers, body } = wireRequest('anthropic', TOKEN, { stream: false });
    const counted = await send(t.gateway, { path: '/v1/messages/count_tokens', headers, body });
    expect(await counted.json()).toEqual({ input_tokens: 100 });
    expect(paths).toEqual(['/v1/messages/count_tokens']);
    expect(t.gateway.usage()).toMatchObject({ calls: 1, inputTokens: 0 });
    const [call] = await t.calls();
    expect(call).toMatchObject({ endpoint: 'count_tokens', status: 200 });
    expect(call!.usage).toBeUndefined();
  });

  it('answers on its unix socket too, and removes it on close', async () => {
    const server = await upstream('anthropic');
    const socketPath = join(await tempDir('gateway-socket'), 'gateway.sock');
    const t = await testGateway({ anthropic: { baseUrl: server.url, apiKey: REAL_KEY } }, { socketPath });
    cleanup.push(() => t.gateway.close());
    expect(t.gateway.socketPath).toBe(socketPath);
    const { body, headers, path } = wireRequest('anthropic', TOKEN, { stream: false });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ socketPath, path, method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    expect(status).toBe(200);
    expect(server.requests).toHaveLength(1);
    await t.gateway.close();
    expect(existsSync(socketPath)).toBe(false);
  });
});

describe('gateway: hang-ups and close', () => {
  /** An SSE upstream that sends one event and then holds the stream open; `ended` settles when its side closes. */
  async function holdingUpstream(): Promise<{ url: string; ended: Promise<void> }> {
    let ended: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const server = await serveLocally((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { model: 'm' } })}\n\n`,
      );
      res.on('close', () => ended());
    });
    cleanup.push(server.close);
    return { url: server.url, ended: closed };
  }

  it('aborts the upstream request when the agent hangs up, and records the broken call', async () => {
    const upstream = await holdingUpstream();
    const t = await testGateway({ anthropic: { baseUrl: upstream.url, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    const agent = new AbortController();
    const { path, headers, body } = wireRequest('anthropic', TOKEN);
    const response = await fetch(`${t.gateway.url}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: agent.signal,
    });
    await response.body!.getReader().read();
    agent.abort();
    await upstream.ended;
    const [call] = await t.calls();
    expect(call).toMatchObject({ status: 200, model_served: 'm' });
    expect(call!.error).toBeDefined();
    expect(t.gateway.usage().failedCalls).toBe(1);
  });

  it('close() ends the streams in flight and still writes their calls', async () => {
    const upstream = await holdingUpstream();
    const t = await testGateway({ anthropic: { baseUrl: upstream.url, apiKey: REAL_KEY } });
    const response = await send(t.gateway, wireRequest('anthropic', TOKEN));
    await response.body!.getReader().read();
    const calls = await t.calls(); // closes the gateway
    await upstream.ended;
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error).toBeDefined();
  });
});
