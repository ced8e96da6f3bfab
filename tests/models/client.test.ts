import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { complete, type WireExchange } from '../../src/models/client.js';
import { startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { startGeminiServer } from '../fixtures/model-servers/gemini.js';
import { startScriptedChatServer } from '../fixtures/model-servers/openai-chat-scripted.js';
import { asRecord, closedPort } from '../fixtures/model-servers/server.js';

const ask = { system: 'You grade.', prompt: 'Grade this.' };

describe('complete: each provider over its own wire protocol', () => {
  it('Anthropic Messages: x-api-key, system apart, text blocks joined', async () => {
    const server = await startAnthropicServer(() => ({ kind: 'text', text: '{"score": 1}' }));
    try {
      const answer = await complete({
        provider: 'anthropic',
        model: 'claude-x',
        baseUrl: server.url,
        apiKey: 'k1',
        ...ask,
      });
      expect(answer.text).toBe('{"score": 1}');
      expect(answer.usage?.outputTokens).toBeGreaterThan(0);
      const request = server.requests[0]!;
      expect(request.url).toBe('/v1/messages');
      expect(request.headers['x-api-key']).toBe('k1');
      expect(asRecord(request.body)).toMatchObject({
        model: 'claude-x',
        system: 'You grade.',
        messages: [{ role: 'user', content: 'Grade this.' }],
      });
    } finally {
      await server.close();
    }
  });

  it('Gemini generateContent: x-goog-api-key, systemInstruction, the model in the path', async () => {
    const server = await startGeminiServer(() => ({ kind: 'text', text: 'fine' }));
    try {
      const answer = await complete({
        provider: 'gemini',
        model: 'gemini-x',
        baseUrl: `${server.url}/`,
        apiKey: 'k2',
        ...ask,
      });
      expect(answer.text).toBe('fine');
      const request = server.requests[0]!;
      expect(request.url).toBe('/v1beta/models/gemini-x:generateContent');
      expect(request.headers['x-goog-api-key']).toBe('k2');
      expect(asRecord(request.body).systemInstruction).toEqual({ parts: [{ text: 'You grade.' }] });
    } finally {
      await server.close();
    }
  });

  it('OpenAI-compatible chat completions: bearer key, a base URL with or without /v1', async () => {
    const server = await startScriptedChatServer({ respond: () => 'ok', apiKey: 'k3' });
    try {
      const withV1 = await complete({ provider: 'openai', model: 'm', baseUrl: server.baseUrl, apiKey: 'k3', ...ask });
      const root = await complete({
        provider: 'openai',
        model: 'm',
        baseUrl: server.baseUrl.replace(/\/v1$/, ''),
        apiKey: 'k3',
        ...ask,
      });
      expect([withV1.text, root.text]).toEqual(['ok', 'ok']);
      expect(server.requests[0]?.messages).toEqual([
        { role: 'system', content: 'You grade.' },
        { role: 'user', content: 'Grade this.' },
      ]);
      const exchanges: WireExchange[] = [];
      await expect(
        complete({ provider: 'openai', model: 'm', baseUrl: server.baseUrl, apiKey: 'wrong', ...ask }, (e) =>
          exchanges.push(e),
        ),
      ).rejects.toThrow(/openai answered HTTP 401: Incorrect API key provided/);
      expect(exchanges[0]?.status).toBe(401);
      expect(JSON.stringify(exchanges)).not.toContain('wrong');
    } finally {
      await server.close();
    }
  });

  it('fails clearly on a timeout and on an endpoint nothing listens on', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      await expect(
        complete({ provider: 'anthropic', model: 'c', baseUrl: url, apiKey: 'k', timeoutMs: 200, ...ask }),
      ).rejects.toThrow('anthropic did not answer within 200 ms');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    const port = await closedPort();
    await expect(
      complete({ provider: 'gemini', model: 'g', baseUrl: `http://127.0.0.1:${port}`, ...ask }),
    ).rejects.toThrow(/calling http:\/\/127\.0\.0\.1:\d+\/v1beta\/models\/g:generateContent failed/);
  });
});
