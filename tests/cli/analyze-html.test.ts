/**
 * The HTML report in a real browser: Debian's chromium, driven by playwright-core. Outside CI a
 * machine without chromium skips this with a message (scripts/setup/chromium.sh installs it); in CI
 * (CI=true) a missing chromium fails the run instead of skipping. Apart from analyze.test.ts so that
 * `pnpm run test:unit` starts no browser (vitest.config.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyze.js';

const REPO = resolve(import.meta.dirname, '../..');
const FIXTURES = join(REPO, 'tests/fixtures/results');

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'skill-eval-analyze-html-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const message = `${CHROMIUM} not found: the HTML report is not rendered in a browser. Run scripts/setup/chromium.sh.`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: this test must run)`);
  console.warn(`\n*** SKIPPING the Chromium test of the HTML report: ${message} ***\n`);
}

describe.runIf(hasChromium)('the HTML report in headless Chromium', () => {
  it('opens without network, shows the tasks and numbers, and draws every chart', async () => {
    const { chromium } = await import('playwright-core');
    const htmlPath = join(out, 'browser-report.html');
    await analyzeCommand({ color: false, dirs: [FIXTURES], html: htmlPath }, REPO, {
      stdout: () => undefined,
      stderr: () => undefined,
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) requests.push(request.url());
      });
      await page.goto(`file://${htmlPath}`);
      const text = await page.locator('body').textContent();
      expect(text).toContain('superlint_demo');
      expect(text).toContain('data_cleanup');
      expect(text).toContain('20.0% [3.6–62.4] (n=5)');
      expect(text).toContain('inconclusive (p=0.048, Holm p=0.095)');
      expect(text).toContain('unknown (legacy)');

      const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = [...svg.querySelectorAll('g.mark circle, rect.bar, rect.box')].filter((mark) => {
            const markBox = mark.getBoundingClientRect();
            return markBox.width > 0 && markBox.height > 0;
          });
          return { chart: svg.getAttribute('data-chart'), width: box.width, height: box.height, marks: marks.length };
        }),
      );
      // Two configurations; the legacy one has no Δ to plot (its histogram says so in words).
      expect(charts.map((chart) => chart.chart)).toEqual([
        'pass-rates',
        'delta-histogram',
        'time',
        'tokens',
        'pass-rates',
        'delta-histogram',
        'time',
        'tokens',
      ]);
      for (const chart of charts) {
        expect(chart.width, `${chart.chart} width`).toBeGreaterThan(100);
        expect(chart.height, `${chart.chart} height`).toBeGreaterThan(50);
      }
      const drawn = (name: string, index = 0) => charts.filter((chart) => chart.chart === name)[index]!.marks;
      // Per-task chart: 2 tasks × 2 arms dots; histogram: one bar per occupied bin; strips: one dot per sampled trial + a box per arm.
      expect(drawn('pass-rates')).toBe(4);
      expect(drawn('delta-histogram')).toBe(2);
      expect(drawn('time')).toBe(18 + 2);
      expect(drawn('delta-histogram', 1)).toBe(0);
      expect(requests).toEqual([]);

      await mkdir(join(REPO, 'test-artifacts'), { recursive: true });
      const screenshot = join(REPO, 'test-artifacts/analyze-report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`HTML report screenshot: ${screenshot}`);
      expect(existsSync(screenshot)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
