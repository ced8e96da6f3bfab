/**
 * The viewer in a real browser: Debian's chromium driven by playwright-core, over a job the real CLI ran
 * (`eval superlint_demo --agent=oracle --provider=local --compare`) and synthetic jobs whose arms take different
 * steps. Screenshots of every page go to test-artifacts/view/. Outside CI a machine without chromium skips this
 * with a message; in CI a missing chromium fails the run (as tests/cli/analyze-html.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatArmRate, formatDeltaPp, formatGain, formatVerdict } from '../../src/analytics/format.js';
import type { AnalysisReport } from '../../src/analytics/report.js';
import { analyzeCommand } from '../../src/cli/analyze.js';
import { sessionEntries } from '../../src/util/session-log.js';
import type { RunningServer } from '../../src/view/server.js';
import { bundleCommand, serveCommand } from '../../src/view/view.js';
import { runCli } from '../helpers/cli.js';
import { trialName, writeJobJson, writeSyntheticTrial } from '../helpers/view-jobs.js';

const REPO = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(REPO, 'test-artifacts', 'view');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const message = `${CHROMIUM} not found: the viewer is not tried in a browser. Run scripts/setup/chromium.sh.`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: this test must run)`);
  console.warn(`\n*** SKIPPING the Chromium tests of skill-eval view: ${message} ***\n`);
}

const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold</b>';
const WITH = [
  { command: 'ls' },
  { command: 'cat .claude/skills/fixture-skill/SKILL.md', output: '# fixture skill', skillActivated: 'fixture-skill' },
  { command: 'superlint check', exitCode: 1, output: 'src/a.sh:1 SL001' },
  { command: 'superlint fix' },
  { command: 'superlint verify' },
];
const WITHOUT = [
  { command: 'ls' },
  { command: 'grep -rn TODO src', output: HOSTILE },
  { command: 'superlint verify', exitCode: 1 },
];

let root: string;
let results: string;
let ourJob: string;
let liveJob: string;
let server: RunningServer;
let browser: Browser;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function writeSyntheticJobs(): void {
  const jobDir = join(results, 'jobs', 'synthetic');
  writeJobJson(jobDir, 'synthetic', ['diverging'], 2);
  for (const index of [1, 2]) {
    writeSyntheticTrial(jobDir, 'synthetic', {
      task: 'diverging',
      arm: 'with-skills',
      index,
      steps: WITH,
      tokens: 1200,
    });
    writeSyntheticTrial(jobDir, 'synthetic', {
      task: 'diverging',
      arm: 'no-skills',
      index,
      status: 'failed',
      steps: WITHOUT,
      tokens: 800,
      instruction: HOSTILE,
    });
  }
  liveJob = join(results, 'jobs', 'live');
  writeJobJson(liveJob, 'live', ['growing'], 3);
  writeSyntheticTrial(liveJob, 'live', { task: 'growing', arm: 'with-skills', index: 1, steps: [{ command: 'ls' }] });
}

describe.runIf(hasChromium)('skill-eval view in headless Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(join(tmpdir(), 'skill-eval-view-browser-'));
    results = join(root, 'results');
    const run = await runCli(
      ['eval', 'superlint', '--agent=oracle', '--provider=local', '--compare', '--results-dir', results],
      { cwd: REPO },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    ourJob = join(results, 'jobs', readdirSync(join(results, 'jobs'))[0]!);
    writeSyntheticJobs();
    server = await serveCommand({ dirs: [results], port: 0 }, REPO);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the jobs', async () => {
    await page.goto(server.url);
    const rows = page.locator('table.jobs tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const text = await page.locator('table.jobs').textContent();
    expect(text).toContain('superlint_demo');
    expect(text).toContain('10 / 10');
    expect(text).toContain('with-skills: 100.0% (5/5)');
    await shot('jobs');
  });

  it('shows the grid with the numbers analyze --json prints', async () => {
    let json = '';
    await analyzeCommand({ dirs: [ourJob], json: true }, REPO, {
      stdout: (text) => (json += text),
      stderr: () => undefined,
    });
    const report = JSON.parse(json) as AnalysisReport;
    const key = ourJob.split('/').pop()!;
    await page.goto(`${server.url}#/job/${key}`);
    const cells = page.locator('table.tasks tbody tr').first().locator('td');
    await expect.poll(() => cells.count()).toBe(8);
    const row = report.configs[0]!.tasks[0]!;
    const shown = await cells.allInnerTexts();
    expect(shown.slice(0, 6)).toEqual([
      row.task,
      formatArmRate(row.arms['no-skills']),
      formatArmRate(row.arms['with-skills']),
      formatDeltaPp(row.deltaPp),
      formatGain(row.gain),
      formatVerdict(row, report.configs[0]!.summary.correction),
    ]);
    expect(await page.locator('table.trials tbody tr').count()).toBe(10);
    await shot('job');
  });

  it('filters and sorts', async () => {
    await page.goto(`${server.url}#/job/synthetic?status=failed`);
    await expect.poll(() => page.locator('table.trials tbody tr').count()).toBe(2);
    expect(await page.locator('table.trials').textContent()).not.toContain('with-skills__');
    await page.selectOption('select[name=status]', '');
    await expect.poll(() => page.locator('table.trials tbody tr').count()).toBe(4);
  });

  it('shows a trial’s transcript: the session log’s commands, the skill opening, the verifier', async () => {
    const key = ourJob.split('/').pop()!;
    for (const arm of ['with-skills', 'no-skills']) {
      const name = `superlint_demo__oracle__${arm}__1`;
      const log = sessionEntries(readFileSync(join(ourJob, name, 'session.jsonl'), 'utf8'));
      const commands = log.filter((entry) => entry.type === 'command').map((entry) => String(entry.command));
      expect(commands.length).toBeGreaterThan(0);
      await page.goto(`${server.url}#/job/${key}/trial/${name}`);
      const titles = page.locator('li.step.k-command .title');
      await expect.poll(() => titles.count()).toBe(commands.length);
      expect(await titles.allInnerTexts()).toEqual(commands);
      expect(await page.locator('body').textContent()).toContain('PASS: code fixed by superlint');
      await shot(`trial-${arm}`);
    }
    await page.goto(
      `${server.url}#/job/synthetic/trial/${trialName({ task: 'diverging', arm: 'with-skills', index: 1 })}`,
    );
    await expect.poll(() => page.locator('li.step.skill').count()).toBe(2);
    expect(await page.locator('li.step.skill').first().textContent()).toContain('skill fixture-skill');
  });

  it('shows HTML and scripts in a transcript as text', async () => {
    await page.goto(
      `${server.url}#/job/synthetic/trial/${trialName({ task: 'diverging', arm: 'no-skills', index: 1 })}`,
    );
    const step = page.locator('li.step.k-command', { hasText: 'grep -rn TODO src' });
    await step.locator('.step-head').click();
    await expect.poll(() => step.locator('pre').count()).toBeGreaterThan(0);
    expect(await step.locator('pre').last().textContent()).toBe(HOSTILE);
    expect(await page.locator('pre', { hasText: '<script>' }).count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#app b, #app img[src=x], #app script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot('trial-escaped');
  });

  it('puts the arms side by side and marks the first divergence', async () => {
    await page.goto(`${server.url}#/job/synthetic/compare/diverging`);
    const rows = page.locator('table.sbs tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    // ls | (SKILL.md, check, fix) only with skills | (grep) only without | verify in both
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row')))).toEqual([
      'same',
      'only-a',
      'only-a',
      'only-a',
      'only-b',
      'same',
    ]);
    expect(await page.locator('tr.divergence').count()).toBe(1);
    expect(await rows.nth(1).getAttribute('class')).toContain('divergence');
    expect(await page.locator('[data-divergence]').textContent()).toContain('first divergence at step 2');
    const summary = await page.locator('table.arm-summary tr[data-arm=with-skills]').textContent();
    expect(summary).toContain('2 of 2');
    expect(summary).toContain('5.0');
    await shot('compare');
    const key = ourJob.split('/').pop()!;
    await page.goto(`${server.url}#/job/${key}/compare/superlint_demo?config=oracle`);
    await expect.poll(() => page.locator('table.sbs tbody tr').count()).toBe(1);
    expect(await page.locator('[data-divergence]').textContent()).toContain('the same steps');
    await shot('compare-superlint');
  });

  it('picks up a trial written after the page opened, and its phase', async () => {
    await page.goto(`${server.url}#/job/live`);
    await expect.poll(() => page.locator('table.trials tbody tr').count()).toBe(1);
    const running = { task: 'growing', arm: 'no-skills', index: 1, runningPhase: 'agent' } as const;
    writeSyntheticTrial(liveJob, 'live', running);
    const row = page.locator(`tr[data-trial="${trialName(running)}"]`);
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('running: agent');
    await shot('live-running');
    writeSyntheticTrial(liveJob, 'live', { ...running, runningPhase: undefined, status: 'failed' });
    await expect.poll(() => row.locator('[data-status]').textContent(), { timeout: 15_000 }).toBe('failed');
    await shot('live-finished');
  });

  it('writes a bundle that works from file://, with no request leaving the disk', async () => {
    const out = join(root, 'site');
    const outcome = await bundleCommand({ dirs: [results], bundle: out }, REPO);
    expect(outcome.jobs).toBe(3);
    const bundlePage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    bundlePage.on('request', (request) => {
      if (!request.url().startsWith('file:')) requests.push(request.url());
    });
    bundlePage.on('pageerror', (error) => errors.push(error.message));
    const index = `file://${join(out, 'index.html')}`;
    await bundlePage.goto(index);
    await expect.poll(() => bundlePage.locator('table.jobs tbody tr').count()).toBe(3);
    await bundlePage.screenshot({ path: join(ARTIFACTS, 'bundle-jobs.png'), fullPage: true });
    const key = ourJob.split('/').pop()!;
    await bundlePage.goto(`${index}#/job/${key}`);
    await expect.poll(() => bundlePage.locator('table.tasks tbody tr').count()).toBe(1);
    await bundlePage.screenshot({ path: join(ARTIFACTS, 'bundle-job.png'), fullPage: true });
    await bundlePage.goto(`${index}#/job/${key}/trial/superlint_demo__oracle__no-skills__1`);
    await expect.poll(() => bundlePage.locator('li.step.k-command').count()).toBe(1);
    const raw = await bundlePage.locator('ul.files a', { hasText: 'result.json' }).getAttribute('href');
    expect(existsSync(join(out, raw!))).toBe(true);
    await bundlePage.screenshot({ path: join(ARTIFACTS, 'bundle-trial.png'), fullPage: true });
    await bundlePage.goto(`${index}#/job/synthetic/compare/diverging`);
    await expect.poll(() => bundlePage.locator('tr.divergence').count()).toBe(1);
    await bundlePage.screenshot({ path: join(ARTIFACTS, 'bundle-compare.png'), fullPage: true });
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await bundlePage.close();
  });
});
