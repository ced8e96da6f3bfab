import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from '../../src/index.js';

/** The GSM8K test split shared beside the project (../shared/data/gsm8k); absent in a user's clone. */
const GSM8K = resolve(import.meta.dirname, '../../../shared/data/gsm8k');
const present = existsSync(join(GSM8K, 'test.jsonl'));
if (!present && process.env.CI !== 'true')
  console.warn(`skipping the GSM8K runs: ${GSM8K}/test.jsonl is absent (it is present in CI)`);
const CONTRACTS = resolve(import.meta.dirname, '../fixtures/targets/contracts');

describe.runIf(present || process.env.CI === 'true')('GSM8K test split with the canaries', () => {
  it.each([
    ['smoke', 'gold', 50, 1],
    ['smoke', 'empty', 50, 0],
    ['full', 'gold', 1319, 1],
    ['full', 'empty', 1319, 0],
  ] as const)('%s mode, %s canary: %i samples, score %d', async (mode, llm, samples, score) => {
    const started = performance.now();
    const env = await setup({
      target: GSM8K,
      contractsDir: CONTRACTS,
      artifactsDir: await mkdtemp(join(tmpdir(), 'skill-eval-gsm8k-')),
    });
    const r = await env.rollout({ llm, mode, requireSamples: true });
    expect(r.ok).toBe(true);
    expect(r.counts).toMatchObject({ samples, dataset_rows: 1319, errors: 0 });
    const m = await env.evaluate({ mode });
    await env.teardown();
    expect(m.ok).toBe(true);
    expect(m.score).toBe(score);
    expect(m.metrics.metrics).toEqual({ exact_match_strict: score, exact_match_flexible: score });
    expect(m.metrics.counts.samples).toBe(samples);
    const lines = (await readFile(r.samplesPath, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(samples);
    // GSM8K gold: the number after ####, commas stripped.
    expect(lines.map((l) => JSON.parse(l).gold as string).every((g) => /^-?[0-9.]+$/.test(g))).toBe(true);
    const seconds = (performance.now() - started) / 1000;
    console.log(`gsm8k ${mode} ${llm}: ${samples} samples, score ${m.score}, ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(20);
  });
});
