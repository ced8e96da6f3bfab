/**
 * Benchmark runs in the viewer, in a real browser: a real rollout and evaluation of the web-tasks target (the
 * browser driver, evidence on: screenshots, traces, model calls) by a scripted policy, then `skill-eval view` over
 * its artifacts in Debian's chromium, served and bundled. Screenshots go to test-artifacts/view/. In CI a missing
 * chromium fails the run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { setup } from '../../src/index.js';
import type { RunningServer } from '../../src/view/server.js';
import { bundleCommand, serveCommand } from '../../src/view/view.js';
import { type ScriptedServer, startScriptedChatServer } from '../fixtures/model-servers/openai-chat-scripted.js';
import { respondToWebTasks } from '../fixtures/targets/web-policy.js';

const REPO = resolve(import.meta.dirname, '../..');
const TASKS = join(REPO, 'tests/fixtures/targets/web-tasks');
const ARTIFACTS = join(REPO, 'test-artifacts', 'view');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} not found (CI=true: this test must run)`);

// biome-ignore lint/suspicious/noExplicitAny: files are read as JSON
type Json = Record<string, any>;

let root: string;
let runDir: string;
let metrics: Json;
let samples: Json[];
let policy: ScriptedServer;
let server: RunningServer;
let browser: Browser;
let page: Page;

function contractWithEvidence(): string {
  const base = parseYaml(readFileSync(join(TASKS, '.skill-eval/contract.yaml'), 'utf8')) as Json;
  const contract = {
    ...base,
    modes: { smoke: { limit: 10, seeds: [1] }, full: { seeds: [1] } },
    stages: {
      rollout: {
        driver: 'browser',
        with: { ...base.stages.rollout.with, evidence: { screenshots: true, trace: true, max_bytes: 5_000_000 } },
      },
      evaluate: { driver: 'browser' },
    },
  };
  const file = join(root, 'contract.yaml');
  writeFileSync(file, stringify(contract));
  return file;
}

const jsonLines = (path: string): Json[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json);

/** The sample page's expectations for the multi-step episode: its line, its model calls. */
function multiStep(): { line: number; calls: Json[] } {
  const index = samples.findIndex((s) => s.page === 'tasks/multi-step.html');
  expect(index).toBeGreaterThanOrEqual(0);
  return { line: index + 1, calls: jsonLines(join(runDir, samples[index]!.evidence_dir, 'model_calls.jsonl')) };
}

async function checkSamplePage(target: Page, url: string, calls: Json[]): Promise<void> {
  await target.goto(url);
  const replies = target.locator('li.episode-step [data-reply] pre');
  await expect.poll(() => replies.count()).toBe(calls.length);
  expect(await replies.allTextContents()).toEqual(calls.map((call) => call.response));
  const shots = target.locator('img.shot');
  expect(await shots.count()).toBeGreaterThan(0);
  await expect
    .poll(() =>
      shots.first().evaluate((img) => {
        const image = img as unknown as { complete: boolean; naturalWidth: number };
        return image.complete ? image.naturalWidth : 0;
      }),
    )
    .toBeGreaterThan(0);
  expect(await target.locator('a[data-trace]').getAttribute('download')).toBe('trace.zip');
}

describe.runIf(hasChromium)('benchmark runs in skill-eval view (headless Chromium)', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'skill-eval-view-runs-'));
    policy = await startScriptedChatServer({ respond: respondToWebTasks });
    const artifactsDir = join(root, 'artifacts');
    const env = await setup({ target: TASKS, contract: contractWithEvidence(), artifactsDir, baseUrl: policy.baseUrl });
    const rollout = await env.rollout({ llm: 'scripted-model', mode: 'full', requireSamples: true });
    expect(rollout.failure).toBeUndefined();
    const evaluation = await env.evaluate();
    expect(evaluation.ok).toBe(true);
    await env.teardown();
    runDir = rollout.artifactsDir;
    metrics = JSON.parse(readFileSync(evaluation.metricsPath, 'utf8')) as Json;
    samples = jsonLines(rollout.samplesPath);
    server = await serveCommand({ dirs: [artifactsDir], port: 0 }, REPO);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await policy?.close();
  });

  it('lists the run with its score; the run page shows the breakdown metrics.json holds, and every sample', async () => {
    await page.goto(server.url);
    const rows = page.locator('table.runs tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator('[data-score]').textContent()).toBe(`success_rate ${metrics.score}`);
    await page.screenshot({ path: join(ARTIFACTS, 'runs.png'), fullPage: true });
    await rows.first().locator('a').click();
    const groups = page.locator('table.breakdown tbody tr');
    await expect.poll(() => groups.count()).toBe(Object.keys(metrics.breakdown).length);
    for (const [group, row] of Object.entries(metrics.breakdown as Record<string, Json>)) {
      const cell = page.locator(`table.breakdown tr[data-group="${group}"] td[data-column="success_rate"]`);
      expect(await cell.textContent(), group).toBe(String(row.success_rate));
    }
    expect(await page.locator('table.samples tbody tr').count()).toBe(samples.length);
    const rewards = await page.locator('table.samples tbody td[data-reward]').allTextContents();
    expect(rewards).toEqual(samples.map((s) => String(s.reward)));
    await page.screenshot({ path: join(ARTIFACTS, 'run.png'), fullPage: true });
  });

  it('an episode shows each step: the reply the model gave (model_calls.jsonl), the screenshot, the trace', async () => {
    const { line, calls } = multiStep();
    expect(calls.length).toBeGreaterThanOrEqual(2);
    await page.goto(server.url);
    const key = await page.locator('table.runs tbody tr').first().getAttribute('data-run');
    await checkSamplePage(page, `${server.url}#/run/${key}/sample/${line}`, calls);
    const trace = await page.locator('a[data-trace]').getAttribute('href');
    const response = await page.request.get(new URL(trace!, server.url).href);
    expect(response.status()).toBe(200);
    expect((await response.body()).subarray(0, 2).toString()).toBe('PK');
    await page.screenshot({ path: join(ARTIFACTS, 'episode.png'), fullPage: true });
  });

  it('the bundle shows the same from file://, without a network request', async () => {
    const out = join(root, 'site');
    const outcome = await bundleCommand({ dirs: [join(root, 'artifacts')], bundle: out }, REPO);
    expect({ runs: outcome.runs, samples: outcome.samples }).toEqual({ runs: 1, samples: samples.length });
    const bundlePage = await browser.newPage();
    const requests: string[] = [];
    bundlePage.on('request', (request) => {
      if (!request.url().startsWith('file:')) requests.push(request.url());
    });
    const index = `file://${join(out, 'index.html')}`;
    await bundlePage.goto(index);
    const row = bundlePage.locator('table.runs tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    const { line, calls } = multiStep();
    await checkSamplePage(bundlePage, `${index}#/run/${await row.getAttribute('data-run')}/sample/${line}`, calls);
    expect(requests).toEqual([]);
    await bundlePage.close();
  });
});
