import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs } from '../../src/gateway/forward.js';
import type { GatewayStop } from '../../src/gateway/types.js';
import { closedPort } from '../fixtures/model-servers/server.js';
import { REAL_KEY, send, serveLocally, TOKEN, testGateway, wireRequest } from '../helpers/gateway.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** An Anthropic endpoint that answers with `statuses` in turn (then 200 with a message), counting requests. */
async function flaky(statuses: number[]): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const server = await serveLocally((req, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const status = statuses[n++] ?? 200;
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '0' } : {}) });
      if (status !== 200)
        return res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'busy' } }));
      res.end(
        JSON.stringify({
          type: 'message',
          model: 'claude-sonnet-4-5',
          content: [{ type: 'text', text: 'ok' }],
          usage: { input_tokens: 10, output_tokens: 2 },
        }),
      );
    });
  });
  cleanup.push(server.close);
  return { url: server.url, requests: () => n };
}

describe('gateway: retries', () => {
  it('retries a 429 and a 503, counts the retries and returns the answer', async () => {
    const upstream = await flaky([429, 503]);
    const t = await testGateway({ anthropic: { baseUrl: upstream.url, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    const response = await send(t.gateway, wireRequest('anthropic', TOKEN, { stream: false }));
    expect(response.status).toBe(200);
    expect(upstream.requests()).toBe(3);
    expect(t.gateway.usage()).toMatchObject({ calls: 1, retries: 2, failedCalls: 0, inputTokens: 10, outputTokens: 2 });
    expect(t.gateway.stopped.aborted).toBe(false);
    const [call] = await t.calls();
    expect(call).toMatchObject({ status: 200, attempts: 3 });
  });

  it('after the last try returns the error and stops the agent: upstream_failed', async () => {
    const upstream = await flaky([500, 500, 500, 500]);
    const t = await testGateway({ anthropic: { baseUrl: upstream.url, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    const response = await send(t.gateway, wireRequest('anthropic', TOKEN, { stream: false }));
    expect(response.status).toBe(500);
    expect(upstream.requests()).toBe(3);
    expect(t.gateway.usage()).toMatchObject({ calls: 1, retries: 2, failedCalls: 1, unavailableCalls: 1 });
    expect(t.gateway.stopped.aborted).toBe(true);
    expect((t.gateway.stopped.reason as GatewayStop).kind).toBe('upstream_failed');
  });

  it('treats an unreachable endpoint the same, with a provider-shaped 502', async () => {
    const t = await testGateway({ anthropic: { baseUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    const response = await send(t.gateway, wireRequest('anthropic', TOKEN, { stream: false }));
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect((t.gateway.stopped.reason as GatewayStop).kind).toBe('upstream_failed');
    expect(t.gateway.usage()).toMatchObject({ retries: 2, unavailableCalls: 1 });
  });

  it('does not retry a 400: the request itself is wrong', async () => {
    const upstream = await flaky([400]);
    const t = await testGateway({ anthropic: { baseUrl: upstream.url, apiKey: REAL_KEY } });
    cleanup.push(() => t.gateway.close());
    expect((await send(t.gateway, wireRequest('anthropic', TOKEN, { stream: false }))).status).toBe(400);
    expect(upstream.requests()).toBe(1);
    expect(t.gateway.stopped.aborted).toBe(false);
    // Failed, but answered: a request the service refuses is not the service being down.
    expect(t.gateway.usage()).toMatchObject({ calls: 1, failedCalls: 1, unavailableCalls: 0 });
  });

  it('waits exponentially, or as retry-after says, never longer than the cap', () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, undefined))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(policy, 1, retryAfterMs('0.5'))).toBe(500);
    expect(backoffMs(policy, 1, retryAfterMs('120'))).toBe(1000);
    const now = Date.parse('2026-12-02T10:00:00Z');
    expect(retryAfterMs('Wed, 02 Dec 2026 10:00:02 GMT', now)).toBe(2000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
