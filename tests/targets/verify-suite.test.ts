import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifySuiteSummary } from '../../src/index.js';
import { type ScriptedServer, startScriptedChatServer } from '../fixtures/model-servers/openai-chat-scripted.js';
import { type HubServer, startHubServer } from '../fixtures/targets/hub-server.js';
import { respondToFixtures } from '../fixtures/targets/scripted-responder.js';
import { runCli } from '../helpers/cli.js';
import { gitRepoFromFixture } from './helpers/git-fixture.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/targets');
const API_KEY = 'sk-test-suite-secret-9999';
const haveChromium = existsSync('/usr/bin/chromium') || process.env.CI === 'true';

describe('skill-eval verify-suite over the fixture targets', () => {
  let hub: HubServer;
  let model: ScriptedServer;
  let codeBench: string;
  let cacheDir: string;
  beforeAll(async () => {
    hub = await startHubServer({ 'fixture-org/tiny-math': { revisions: { main: join(FIXTURES, 'qa-hf') } } });
    model = await startScriptedChatServer({ apiKey: API_KEY, respond: respondToFixtures });
    codeBench = (await gitRepoFromFixture(join(FIXTURES, 'code-bench'), 'code-bench')).url;
    cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
  });
  afterAll(async () => {
    await hub.close();
    await model.close();
  });

  const suite = async (llm: string, targets: string[], extra: string[] = []) => {
    const artifactsDir = await mkdtemp(join(tmpdir(), 'skill-eval-suite-'));
    const out = join(artifactsDir, 'summary.json');
    const run = await runCli(
      [
        'verify-suite',
        '--targets',
        ...targets,
        '--llm',
        llm,
        '--eval-mode',
        'smoke',
        '--require-samples',
        '--repair-iters',
        '0',
        '--base-url',
        model.baseUrl,
        '--cache-dir',
        cacheDir,
        '--contracts-dir',
        join(FIXTURES, 'contracts'),
        '--artifacts-dir',
        artifactsDir,
        '--out',
        out,
        ...extra,
      ],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, HF_ENDPOINT: hub.endpoint, OPENAI_API_KEY: API_KEY },
        timeoutMs: 180_000,
      },
    );
    const summary = JSON.parse(run.stdout) as VerifySuiteSummary;
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(summary);
    return { run, summary, artifactsDir };
  };

  const targets = (): string[] => [
    'fixture-org/tiny-math',
    `${codeBench}#main`,
    ...(haveChromium ? [join(FIXTURES, 'browser-bench')] : []),
  ];

  it('smoke mode with a real endpoint: all ok, real scores, artifacts as documented', async () => {
    const { run, summary, artifactsDir } = await suite('scripted-model', targets());
    expect(run.stderr).not.toContain(API_KEY);
    expect(run.exitCode).toBe(0);
    expect(summary.ok).toBe(true);
    const scores = Object.fromEntries(
      summary.results.map((r) => [
        r.target.replace(/^file:.*#main$/, 'code-bench').replace(/.*browser-bench$/, 'browser-bench'),
        r.metrics?.score,
      ]),
    );
    expect(scores).toEqual({
      'fixture-org/tiny-math': 0.8,
      'code-bench': 2 / 3,
      ...(haveChromium ? { 'browser-bench': 1 } : {}),
    });
    for (const result of summary.results) {
      expect(result).toMatchObject({
        ok: true,
        failed_stage: null,
        rollout_ok: true,
        evaluation_ok: true,
        canary: { model: 'empty', ok: true, score: 0 },
      });
      expect(result.artifacts_dir!.startsWith(artifactsDir)).toBe(true);
      const files = await readdir(result.artifacts_dir!);
      expect(files).toEqual(
        expect.arrayContaining(['rollout.json', 'samples.jsonl', 'metrics.json', 'hints_used.json', 'logs']),
      );
      const metrics = JSON.parse(await readFile(join(result.artifacts_dir!, 'metrics.json'), 'utf8'));
      expect(Object.keys(metrics)).toEqual(
        expect.arrayContaining(['ok', 'score', 'counts', 'primary_metric', 'scoreSource', 'kind', 'official', 'ci95']),
      );
      const hints = JSON.parse(await readFile(join(result.artifacts_dir!, 'hints_used.json'), 'utf8'));
      expect(Object.keys(hints)).toEqual(expect.arrayContaining(['used_anchors', 'commands']));
    }
  });

  it('--llm empty: every score is 0, and that is a valid run', async () => {
    const { run, summary } = await suite('empty', targets());
    expect(run.exitCode).toBe(0);
    expect(summary.results.map((r) => r.metrics?.score)).toEqual(summary.results.map(() => 0));
  });

  it('catches a contract that ignores the model and writes score: 1; one failing target does not stop the others', async () => {
    const { run, summary } = await suite('scripted-model', [join(FIXTURES, 'cheater'), 'fixture-org/tiny-math']);
    expect(run.exitCode).toBe(1);
    expect(summary.ok).toBe(false);
    expect(summary.results[0]).toMatchObject({
      ok: false,
      failed_stage: 'canary',
      failure_code: 'canary_empty_scored',
      rollout_ok: true,
      evaluation_ok: true,
      canary: { ok: false, score: 1 },
    });
    expect(summary.results[1]).toMatchObject({ ok: true, metrics: { score: 0.8 } });
    expect(run.stderr).toMatch(/FAILED .*cheater {2}at canary \(canary_empty_scored\)/);
  });

  it('reports a target without a contract, an unknown target and a bad flag clearly', async () => {
    const { run, summary } = await suite('gold', [join(FIXTURES, 'qa-hf'), './no/such/dir']);
    expect(run.exitCode).toBe(1);
    expect(summary.results[0]).toMatchObject({ ok: false, failed_stage: 'contract', failure_code: 'contract_missing' });
    expect(summary.results[1]).toMatchObject({
      ok: false,
      failed_stage: 'resolve',
      error: expect.stringMatching(/no such directory/),
    });
    const bad = await runCli(['verify-suite', '--targets', 'x', '--llm', 'gold', '--eval-mode', 'huge']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--eval-mode.*huge.*smoke, full|Allowed choices are smoke, full/);
  });
});
