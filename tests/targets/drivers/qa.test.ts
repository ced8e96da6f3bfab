import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../../src/index.js';
import { type ScriptedServer, startScriptedChatServer } from '../../fixtures/model-servers/openai-chat-scripted.js';
import { type HubServer, startHubServer } from '../../fixtures/targets/hub-server.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/targets');
const API_KEY = 'sk-test-qa-secret-4242';

/** Answers by question: right with ####, right without it, wrong, and a $-formatted number. */
function answer(question: string): string {
  if (question.includes('3 boxes')) return 'She has 3*4 = 12 apples.\n#### 12';
  if (question.includes('60 miles')) return 'It goes 180 miles.';
  if (question.includes('25 marbles')) return '#### 17';
  if (question.includes('40 chairs')) return 'That is $1,200 in total.';
  if (question.includes('15 pages')) return '#### 90';
  return 'I do not know';
}

describe('qa driver through the env API', () => {
  let hub: HubServer;
  let model: ScriptedServer;
  let cacheDir: string;
  let artifactsDir: string;
  const common = (): {
    target: string;
    hfEndpoint: string;
    cacheDir: string;
    contractsDir: string;
    artifactsDir: string;
  } => ({
    target: 'fixture-org/tiny-math',
    hfEndpoint: hub.endpoint,
    cacheDir,
    contractsDir: join(FIXTURES, 'contracts'),
    artifactsDir,
  });

  beforeAll(async () => {
    hub = await startHubServer({ 'fixture-org/tiny-math': { revisions: { main: join(FIXTURES, 'qa-hf') } } });
    model = await startScriptedChatServer({
      apiKey: API_KEY,
      respond: (body) => answer(body.messages.at(-1)!.content),
    });
    cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    artifactsDir = await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-'));
  });
  afterAll(async () => {
    await hub.close();
    await model.close();
  });

  it('gold scores 1 and empty scores 0 on every extractor, from the Parquet files', async () => {
    const env = await setup(common());
    const gold = await env.rollout({ llm: 'gold', mode: 'full', requireSamples: true });
    expect(gold).toMatchObject({ ok: true, counts: { samples: 8, dataset_rows: 8, errors: 0, model_calls: 0 } });
    const goldMetrics = await env.evaluate({ mode: 'full' });
    expect(goldMetrics.ok).toBe(true);
    expect(goldMetrics.metrics.metrics).toEqual({ exact_match_strict: 1, exact_match_flexible: 1 });

    const empty = await env.rollout({ llm: 'empty', mode: 'full', requireSamples: true, runId: `${env.runId}.empty` });
    expect(empty.ok).toBe(true);
    const emptyMetrics = await env.evaluate({ runId: `${env.runId}.empty` });
    expect(emptyMetrics).toMatchObject({ ok: true, score: 0 });
    expect(emptyMetrics.metrics.metrics).toEqual({ exact_match_strict: 0, exact_match_flexible: 0 });
    expect(emptyMetrics.metrics.ci95).toEqual({ low: 0, high: expect.closeTo(0.324, 3), method: 'wilson' });
    await env.teardown();
  });

  it('scores a real endpoint with strict and flexible side by side, and writes the documented artifacts', async () => {
    const env = await setup(common());
    const r = await env.rollout({
      llm: { baseUrl: model.baseUrl, model: 'scripted-model', apiKey: API_KEY },
      mode: 'smoke',
      requireSamples: true,
    });
    expect(r).toMatchObject({ ok: true, mode: 'smoke', counts: { samples: 5, model_calls: 5, errors: 0 } });
    expect(model.requests.at(-1)!.messages.at(-1)!.content).toMatch(/^Question: .*\nAnswer: think step by step/);
    const m = await env.evaluate({ mode: 'smoke' });
    expect(m.ok).toBe(true);
    expect(m.metrics).toMatchObject({
      ok: true,
      score: 0.8,
      primary_metric: 'exact_match_flexible',
      metrics: { exact_match_strict: 0.4, exact_match_flexible: 0.8 },
      counts: { samples: 5, correct: 4 },
      scoreSource: 'driver:qa',
      kind: 'model_eval',
      official: false,
      model: { name: 'scripted-model', kind: 'endpoint', base_url: model.baseUrl },
      contract: { reviewed: true },
    });
    expect(m.metrics.ci95!.low).toBeLessThan(0.8);
    expect(m.metrics.ci95!.high).toBeGreaterThan(0.8);

    const dir = env.artifactsDir();
    expect(dir).toBe(join(artifactsDir, env.runId, 'env_api'));
    expect((await readdir(dir)).sort()).toEqual(
      expect.arrayContaining([
        'hints_used.json',
        'logs',
        'metrics.json',
        'rollout.json',
        'samples.jsonl',
        'target.json',
      ]),
    );
    const rollout = JSON.parse(await readFile(join(dir, 'rollout.json'), 'utf8'));
    expect(rollout).toMatchObject({
      ok: true,
      mode: 'smoke',
      limit: 5,
      counts: { samples: 5 },
      samples_path: join(dir, 'samples.jsonl'),
    });
    const samples = (await readFile(join(dir, 'samples.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(samples[1]).toMatchObject({
      index: 1,
      completion: 'It goes 180 miles.',
      gold: '180',
      extracted: '180',
      extracted_by: { strict: null, flexible: '180' },
      reward: 1,
    });
    expect(samples[3]).toMatchObject({ gold: '1200', extracted: '$1,200', reward: 1 });
    expect(samples[2]).toMatchObject({ gold: '18', reward: 0 });
    const stage = JSON.parse(await readFile(join(dir, 'logs', 'rollout.json'), 'utf8'));
    expect(stage).toMatchObject({ stage: 'rollout', driver: 'qa', ok: true });
    // The key reached the server but no file.
    for (const name of ['rollout.json', 'metrics.json', 'samples.jsonl'])
      expect(await readFile(join(dir, name), 'utf8')).not.toContain(API_KEY);
    await env.teardown();
  });

  it('reads the same rows from JSONL, and refuses to score without a rollout', async () => {
    const contractDir = await mkdtemp(join(tmpdir(), 'skill-eval-contract-'));
    const text = (await readFile(join(FIXTURES, 'contracts/fixture-org-tiny-math/contract.yaml'), 'utf8')).replace(
      'main/test-*.parquet',
      'data/test.jsonl',
    );
    await writeFile(join(contractDir, 'contract.yaml'), text);
    const env = await setup({ ...common(), contract: join(contractDir, 'contract.yaml') });
    const m0 = await env.evaluate({ mode: 'smoke' });
    expect(m0).toMatchObject({ ok: false, failure: { code: 'no_rollout' } });
    expect(m0.metrics.score).toBeUndefined();
    await env.rollout({ llm: 'gold', mode: 'full' });
    expect((await env.evaluate()).metrics.metrics).toEqual({ exact_match_strict: 1, exact_match_flexible: 1 });
    await env.teardown();
  });

  it('reports a wrong key as a non-repairable auth failure, without a score', async () => {
    const env = await setup(common());
    const r = await env.rollout({
      llm: { baseUrl: model.baseUrl, model: 'scripted-model', apiKey: 'sk-wrong-key-0000' },
      mode: 'smoke',
      requireSamples: true,
    });
    expect(r).toMatchObject({ ok: false, failure: { stage: 'rollout', code: 'model_auth', class: 'auth' } });
    const m = await env.evaluate();
    expect(m).toMatchObject({ ok: false, failure: { code: 'rollout_failed' } });
    expect(m.score).toBeUndefined();
    await env.teardown();
  });
});
