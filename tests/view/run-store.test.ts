import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/view/catalog.js';
import type { JobsView, RunView, SampleView } from '../../src/view/model.js';
import { RunStore } from '../../src/view/run-store.js';
import { createApp } from '../../src/view/server.js';

/** A run directory as `skill-eval target run` writes it (<artifacts>/<run_id>/env_api/), written by hand. */
function writeRun(root: string, options: { metrics?: boolean; samples?: string } = {}): string {
  const dir = join(root, 'artifacts', 'r1', 'env_api');
  const episode = join(dir, 'episodes', '000-s1');
  mkdirSync(episode, { recursive: true });
  mkdirSync(join(dir, 'logs'));
  writeFileSync(
    join(dir, 'rollout.json'),
    JSON.stringify({
      ok: true,
      run_id: 'r1',
      target: 'web-tasks',
      mode: 'smoke',
      model: { name: 'scripted-model', kind: 'endpoint' },
      started_at: '2026-12-03T09:00:00.000Z',
      counts: { samples: 2 },
    }),
  );
  writeFileSync(join(dir, 'logs', 'rollout.json'), JSON.stringify({ stage: 'rollout', driver: 'browser' }));
  if (options.metrics !== false)
    writeFileSync(
      join(dir, 'metrics.json'),
      JSON.stringify({ ok: true, score: 0.5, primary_metric: 'success_rate', breakdown: { click: { episodes: 2 } } }),
    );
  const line = (id: string, evidence: string) =>
    JSON.stringify({ id, seed: 1, group: 'click', reward: 0.9, success: true, steps: 1, evidence_dir: evidence });
  writeFileSync(
    join(dir, 'samples.jsonl'),
    options.samples ??
      [line('a', 'episodes/000-s1'), 'not json', '[1]', line('b', '../../../etc'), line('c', '/etc')].join('\n'),
  );
  const call = { at: '2026-12-03T09:00:01.000Z', step: 1, messages: [{ role: 'user', content: 'Page: <b>x</b>' }] };
  writeFileSync(
    join(episode, 'model_calls.jsonl'),
    `${JSON.stringify({ ...call, response: '{"actions":[]}' })}\n{torn`,
  );
  writeFileSync(join(episode, 'step-1.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(episode, 'trace.zip'), 'PK');
  return dir;
}

describe('a benchmark run in the viewer', () => {
  it('reads its entry, its samples (bad lines counted) and an episode’s steps, screenshot and trace', () => {
    const dir = writeRun(mkdtempSync(join(tmpdir(), 'skill-eval-run-store-')));
    const store = new RunStore({ key: 'r1', dir });
    expect(store.entry()).toMatchObject({
      runId: 'r1',
      target: 'web-tasks',
      model: 'scripted-model',
      driver: 'browser',
      samples: 3,
      evaluated: true,
      score: 0.5,
      primaryMetric: 'success_rate',
    });
    const view = store.runView();
    expect(view.badLines).toBe(2);
    expect(view.samples.map((row) => [row.line, row.id, row.evidenceDir])).toEqual([
      [1, 'a', 'episodes/000-s1'],
      [2, 'b', undefined],
      [3, 'c', undefined],
    ]);
    expect(view.files.some((file) => file.path.startsWith('episodes/'))).toBe(false);
    const sample = store.sampleView(1)!;
    expect(sample.steps).toEqual([
      {
        step: 1,
        at: '2026-12-03T09:00:01.000Z',
        observation: { text: 'Page: <b>x</b>' },
        imagesSent: 0,
        reply: { text: '{"actions":[]}' },
        error: undefined,
        screenshot: 'episodes/000-s1/step-1.png',
      },
    ]);
    expect(sample.trace).toBe('episodes/000-s1/trace.zip');
    // A sample pointing outside the run directory gets no evidence at all.
    expect(store.sampleView(2)!.files).toEqual([]);
    expect(store.sampleView(9)).toBeUndefined();
  });

  it('shows a run still being written, and picks up its evaluation when it lands', () => {
    const root = mkdtempSync(join(tmpdir(), 'skill-eval-run-store-'));
    const dir = writeRun(root, { metrics: false, samples: '' });
    const store = new RunStore({ key: 'r1', dir });
    expect(store.entry()).toMatchObject({ evaluated: false, samples: 0 });
    const before = store.runView().version;
    writeFileSync(
      join(dir, 'metrics.json'),
      JSON.stringify({ ok: false, failure: { code: 'samples_missing', message: 'none' } }),
    );
    expect(store.runView().version).not.toBe(before);
    expect(store.entry()).toMatchObject({ evaluated: true, evaluationOk: false, failure: 'samples_missing: none' });
  });
});

describe('the viewer’s server, for runs', () => {
  const root = mkdtempSync(join(tmpdir(), 'skill-eval-run-server-'));
  const dir = writeRun(root);
  writeFileSync(join(root, 'secret.txt'), 'the secret');
  symlinkSync(join(root, 'secret.txt'), join(dir, 'link.txt'));
  const app = createApp(new Catalog([join(root, 'artifacts')]));

  it('lists the run and answers its JSON', async () => {
    const jobs = (await (await app.request('/api/jobs')).json()) as JobsView;
    expect(jobs.runs.map((run) => run.key)).toEqual(['r1']);
    const run = (await (await app.request('/api/runs/r1')).json()) as RunView;
    expect(run.samples).toHaveLength(3);
    const sample = (await (await app.request('/api/runs/r1/samples/1')).json()) as SampleView;
    expect(sample.steps).toHaveLength(1);
    expect((await app.request('/api/runs/r1/samples/7')).status).toBe(404);
    expect((await app.request('/api/runs/nope')).status).toBe(404);
  });

  it('serves a screenshot as an image and the trace as a download', async () => {
    const png = await app.request('/run-raw/r1/episodes/000-s1/step-1.png');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('x-content-type-options')).toBe('nosniff');
    const zip = await app.request('/run-raw/r1/episodes/000-s1/trace.zip');
    expect(zip.headers.get('content-type')).toBe('application/octet-stream');
  });

  it.each([
    ['/run-raw/r1/../../../secret.txt', [403, 404]],
    ['/run-raw/r1/..%2f..%2f..%2fsecret.txt', [403]],
    ['/run-raw/r1/%252e%252e/secret.txt', [403, 404]],
    ['/run-raw/r1/link.txt', [403]],
    ['/run-raw/nope/secret.txt', [404]],
  ])('refuses %s', async (path, statuses) => {
    const response = await app.request(path);
    expect(statuses).toContain(response.status);
    expect(await response.text()).not.toContain('the secret');
  });
});
