import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateCost, priceFor } from '../../src/gateway/prices.js';
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
