import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../../src/index.js';
import { type ScriptedServer, startScriptedChatServer } from '../../fixtures/model-servers/openai-chat-scripted.js';
import { respondToFixtures } from '../../fixtures/targets/scripted-responder.js';
import { gitRepoFromFixture } from '../helpers/git-fixture.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/targets');
const API_KEY = 'sk-test-command-secret-777';

describe('command driver: a code benchmark with its own scorer, from a git repository', () => {
  let model: ScriptedServer;
  let repo: { url: string; commit: string };
  let cacheDir: string;
  let artifactsDir: string;
  beforeAll(async () => {
    model = await startScriptedChatServer({ apiKey: API_KEY, respond: respondToFixtures });
    repo = await gitRepoFromFixture(join(FIXTURES, 'code-bench'), 'code-bench');
    cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    artifactsDir = await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-'));
  });
  afterAll(async () => {
    await model.close();
  });

  it("scores from the official scorer's file; the stage never sees the real key", async () => {
    const env = await setup({
      target: `${repo.url}#main`,
      cacheDir,
      artifactsDir,
      baseUrl: model.baseUrl,
      apiKey: API_KEY,
    });
    expect(env.target).toMatchObject({ kind: 'git', commit: repo.commit });
    const r = await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true });
    expect(r).toMatchObject({ ok: true, counts: { samples: 3, model_calls: 3, errors: 0 } });
    const m = await env.evaluate({ mode: 'smoke' });
    expect(m.metrics).toMatchObject({
      ok: true,
      score: 2 / 3,
      primary_metric: 'pass_at_1',
      metrics: { pass_at_1: 2 / 3 },
      counts: { samples: 3, scored: 3 },
      scoreSource: 'file:score.json#pass_at_1'.replace('score.json', join(env.artifactsDir(), 'score.json')),
      kind: 'repo_tests',
      official: true,
    });
    expect(m.metrics.ci95).toMatchObject({ method: 'wilson' });
    await env.teardown();

    const dir = env.artifactsDir();
    const logs = await readdir(join(dir, 'logs'));
    expect(logs).toEqual(
      expect.arrayContaining(['health.json', 'rollout.json', 'evaluate.json', 'rollout.1.1.stdout.log']),
    );
    const rolloutLog = JSON.parse(await readFile(join(dir, 'logs', 'rollout.json'), 'utf8'));
    expect(rolloutLog.commands[0]).toMatchObject({
      index: 1,
      attempt: 1,
      exit_code: 0,
      timed_out: false,
      stdout_tail: expect.stringContaining('wrote 3 samples'),
    });
    const calls = (await readFile(join(dir, 'model_calls.jsonl'), 'utf8')).trim().split('\n');
    expect(calls).toHaveLength(3);
    for (const name of [...logs.map((l) => join('logs', l)), 'model_calls.jsonl', 'samples.jsonl', 'rollout.json']) {
      expect(await readFile(join(dir, name), 'utf8')).not.toContain(API_KEY);
    }
    const hints = JSON.parse(await readFile(join(dir, 'hints_used.json'), 'utf8'));
    expect(hints.used_anchors).toEqual(expect.arrayContaining(['bench/score.mjs']));
    expect(hints.commands).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          stage: 'evaluate',
          from: expect.stringMatching(/contract\.yaml stages\.evaluate\.commands\[0\]|README\.md:\d+/),
        }),
      ]),
    );
  });

  it('gold scores 1, empty scores 0', async () => {
    for (const [llm, score] of [
      ['gold', 1],
      ['empty', 0],
    ] as const) {
      const env = await setup({ target: `${repo.url}#${repo.commit}`, cacheDir, artifactsDir });
      expect(env.target.fromCache).toBe(true);
      const r = await env.rollout({ llm, mode: 'full', requireSamples: true });
      expect(r.ok).toBe(true);
      const m = await env.evaluate();
      expect(m).toMatchObject({ ok: true, score });
      await env.teardown();
    }
  });
});

describe('command driver: score integrity', () => {
  let model: ScriptedServer;
  beforeAll(async () => {
    model = await startScriptedChatServer({ respond: respondToFixtures });
  });
  afterAll(async () => {
    await model.close();
  });

  const run = async (contract: string, requireSamples = true) => {
    const env = await setup({
      target: join(FIXTURES, 'cheater'),
      contract: join(FIXTURES, 'cheater', 'contracts', contract),
      artifactsDir: await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-')),
      baseUrl: model.baseUrl,
    });
    const r = await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples });
    const m = await env.evaluate();
    await env.teardown();
    return { r, m };
  };

  it('samples the model never produced: model_not_called', async () => {
    const { r, m } = await run('fabricated-samples.yaml');
    expect(r).toMatchObject({ ok: false, failure: { stage: 'rollout', code: 'model_not_called', class: 'integrity' } });
    expect(m).toMatchObject({ ok: false, score: undefined, failure: { code: 'rollout_failed' } });
    expect(m.metrics.score).toBeUndefined();
  });

  it('a results file that was there before: score_file_stale', async () => {
    const { r, m } = await run('stale-score.yaml');
    expect(r.ok).toBe(true);
    expect(m).toMatchObject({ ok: false, score: undefined, failure: { code: 'score_file_stale' } });
  });

  it('a scorer that only exits 0: score_file_missing, never a score', async () => {
    const { m } = await run('exit-code.yaml');
    expect(m).toMatchObject({ ok: false, score: undefined, failure: { code: 'score_file_missing' } });
  });

  it('a scorer that replaces the samples: samples_changed', async () => {
    const { m } = await run('rewrites-samples.yaml');
    expect(m).toMatchObject({ ok: false, score: undefined, failure: { code: 'samples_changed' } });
  });
});
