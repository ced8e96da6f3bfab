import { afterEach, describe, expect, it } from 'vitest';
import { JobBudget } from '../../src/gateway/budget.js';
import type { GatewayStop, TrialBudget } from '../../src/gateway/types.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { REAL_KEY, send, startUpstream, TOKEN, testGateway, wireRequest } from '../helpers/gateway.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function anthropic(): Promise<ModelServer> {
  const server = await startUpstream('anthropic');
  cleanup.push(() => server.close());
  return server;
}

async function gatewayWith(server: ModelServer, budget: TrialBudget) {
  const t = await testGateway({ anthropic: { baseUrl: server.url, apiKey: REAL_KEY } }, { budget });
  cleanup.push(() => t.gateway.close());
  return t;
}

const call = (t: { gateway: { url: string } }, text = 'go') =>
  send(t.gateway, wireRequest('anthropic', TOKEN, { text }));

function stopKind(signal: AbortSignal): string | undefined {
  return signal.aborted ? (signal.reason as GatewayStop).kind : undefined;
}

describe('gateway: budgets', () => {
  it('returns the call that crossed the token budget, then stops the agent and refuses the next one', async () => {
    const server = await anthropic();
    const t = await gatewayWith(server, { maxTokens: 500 });
    const first = await call(t);
    expect(first.status).toBe(200);
    await first.text();
    expect(stopKind(t.gateway.stopped)).toBe('budget_exceeded');
    const second = await call(t, 'again');
    expect(second.status).toBe(403);
    const body = (await second.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('permission_error');
    expect(body.error.message).toMatch(/^budget_exceeded: .*--max-tokens-per-trial 500/);
    expect(server.requests).toHaveLength(1);
    const calls = await t.calls();
    expect(calls.map((c) => [c.status, c.refused])).toEqual([
      [200, undefined],
      [403, 'budget_exceeded'],
    ]);
  });

  it('stops at the first call under --max-cost-per-trial 0.0001', async () => {
    const server = await anthropic();
    const t = await gatewayWith(server, { maxCostUsd: 0.0001 });
    await (await call(t)).text();
    expect(t.gateway.usage().costUsd).toBeGreaterThan(0.0001);
    expect(stopKind(t.gateway.stopped)).toBe('budget_exceeded');
    expect((t.gateway.stopped.reason as GatewayStop).message).toMatch(/--max-cost-per-trial 0.0001/);
    expect((await call(t, 'more')).status).toBe(403);
    expect(server.requests).toHaveLength(1);
  });

  it("shares a job's budget between trials: once it is spent, every trial's gateway refuses", async () => {
    const server = await anthropic();
    // One agent turn of the scripted server costs $0.00222 on claude-sonnet-4-5 (600 × 3 + 400 × 0.3 + 20 × 15 per 1M).
    const job = new JobBudget(0.003);
    const a = await gatewayWith(server, { job });
    const b = await gatewayWith(server, { job });
    await (await call(a)).text();
    expect(job.spentUsd).toBeCloseTo(0.00222, 9);
    expect(job.exceeded).toBe(false);
    await (await call(b)).text();
    expect(job.exceeded).toBe(true);
    expect(stopKind(b.gateway.stopped)).toBe('budget_exceeded');
    expect(stopKind(a.gateway.stopped)).toBeUndefined();
    const refused = await call(a, 'next');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/--max-cost 0.003/);
    expect(stopKind(a.gateway.stopped)).toBe('budget_exceeded');
    expect(server.requests).toHaveLength(2);
  });

  it('fails closed when a cost budget meets a model without a price', async () => {
    const server = await anthropic();
    const t = await gatewayWith(server, { maxCostUsd: 100 });
    const unpriced = wireRequest('anthropic', TOKEN);
    unpriced.body.model = 'claude-unpriced';
    await (await send(t.gateway, unpriced)).text();
    expect(t.gateway.usage().costIncomplete).toBe(true);
    expect(stopKind(t.gateway.stopped)).toBe('budget_exceeded');
    expect((t.gateway.stopped.reason as GatewayStop).message).toMatch(/no price.*SKILL_EVAL_PRICES_FILE/);
    // Without a cost budget the same call only leaves the cost incomplete.
    const free = await gatewayWith(server, { maxTokens: 1_000_000 });
    await (await send(free.gateway, unpriced)).text();
    expect(free.gateway.stopped.aborted).toBe(false);
  });

  it('forwards nothing when the job is already over budget', async () => {
    const server = await anthropic();
    const t = await gatewayWith(server, { job: new JobBudget(0) });
    expect((await call(t)).status).toBe(403);
    expect(server.requests).toHaveLength(0);
    expect(t.gateway.usage()).toMatchObject({ calls: 1, failedCalls: 1, inputTokens: 0 });
  });
});
