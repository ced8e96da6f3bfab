import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILT_IN_PRICES,
  callCost,
  estimateCost,
  PRICES_AS_OF,
  priceFor,
  priceIn,
  priceTable,
  withPrices,
} from '../../src/gateway/prices.js';
import { REAL_KEY, send, startUpstream, TOKEN, testGateway, wireRequest } from '../helpers/gateway.js';
import { tempDir } from '../helpers/trials.js';

describe('price table', () => {
  it('finds models by exact name, without a provider prefix or a date suffix', () => {
    expect(priceFor('gpt-5')).toEqual({ input: 1.25, output: 10, cachedInput: 0.125 });
    expect(priceFor('openai/gpt-5')).toEqual(priceFor('gpt-5'));
    expect(priceFor('claude-sonnet-4-5-20250929')).toEqual(priceFor('claude-sonnet-4-5'));
    expect(priceFor('gpt-4.1-2025-04-14')).toEqual(priceFor('gpt-4.1'));
    expect(priceFor('no-such-model')).toBeUndefined();
  });

  it('bills cached input at the cached rate and gives no cost for unknown models', () => {
    // 1M input of which 400k cached, 100k output on gpt-5: 0.6 × 1.25 + 0.4 × 0.125 + 0.1 × 10
    expect(
      estimateCost('gpt-5', { inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 100_000 }),
    ).toBeCloseTo(1.8, 9);
    expect(estimateCost('mystery', { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1 })).toBeUndefined();
  });

  it('takes extra prices from SKILL_EVAL_PRICES_FILE and rejects a malformed one', async () => {
    const dir = await tempDir('prices');
    const good = join(dir, 'prices.json');
    writeFileSync(
      good,
      JSON.stringify({ 'gpt-5.5': { input: 2, output: 20 }, 'gpt-5': { input: 1, output: 1, cachedInput: 0 } }),
    );
    expect(priceFor('gpt-5.5', { SKILL_EVAL_PRICES_FILE: good })).toEqual({ input: 2, output: 20, cachedInput: 2 });
    expect(priceFor('gpt-5', { SKILL_EVAL_PRICES_FILE: good })).toEqual({ input: 1, output: 1, cachedInput: 0 });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'gpt-5': { input: 'cheap' } }));
    expect(() => priceFor('gpt-5', { SKILL_EVAL_PRICES_FILE: bad })).toThrow(/SKILL_EVAL_PRICES_FILE/);
  });
});

describe('the gateway prices calls with its table', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  it('is dated, and takes overrides from a file', async () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const file = join(await tempDir('prices'), 'prices.json');
    writeFileSync(file, JSON.stringify({ 'claude-test': { input: 1, output: 1 } }));
    const table = priceTable({}, file);
    expect(table.source).toBe(`built-in + ${file}`);
    expect(table.asOf).toBe(PRICES_AS_OF);
    expect(priceIn(table, 'claude-test')).toEqual({ input: 1, output: 1, cachedInput: 1 });
    const usage = {
      input_tokens: 2_000_000,
      cached_input_tokens: 1_000_000,
      output_tokens: 1_000_000,
      reasoning_tokens: 0,
    };
    expect(callCost(table, 'claude-test', usage)).toBe(3);
    expect(callCost(table, 'unknown', usage)).toBeUndefined();
  });

  it('uses the table it is given, and says when a model had no price', async () => {
    const server = await startUpstream('anthropic');
    cleanup.push(() => server.close());
    // 1000 input (400 cached) + 20 output at $1 / $0.5 / $10 per 1M.
    const prices = withPrices(
      BUILT_IN_PRICES,
      { 'claude-sonnet-4-5': { input: 1, output: 10, cachedInput: 0.5 } },
      'test',
    );
    const t = await testGateway({ anthropic: { baseUrl: server.url, apiKey: REAL_KEY } }, { prices });
    cleanup.push(() => t.gateway.close());
    await (await send(t.gateway, wireRequest('anthropic', TOKEN))).text();
    expect(t.gateway.usage()).toMatchObject({ costUsd: (600 + 200 + 200) / 1e6, costIncomplete: false });
    const unpriced = wireRequest('anthropic', TOKEN, { text: 'other' });
    unpriced.body.model = 'claude-unpriced';
    await (await send(t.gateway, unpriced)).text();
    expect(t.gateway.usage()).toMatchObject({ costUsd: 0.001, costIncomplete: true, calls: 2 });
  });
});
