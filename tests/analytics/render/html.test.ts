import { describe, expect, it } from 'vitest';
import { escapeHtml, niceTicks, renderHtml } from '../../../src/analytics/render/html.js';
import { reportWith } from './report-fixture.js';

describe('renderHtml', () => {
  it('is one self-contained document: no script, no external URL', () => {
    const html = renderHtml(reportWith({ task: 'superlint_demo' }));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|@import|src="http|href="http/i);
    expect(html).toContain("default-src 'none'");
  });

  it('draws the four charts with the task and its numbers', () => {
    const html = renderHtml(reportWith({ task: 'superlint_demo' }));
    for (const chart of ['pass-rates', 'delta-histogram', 'time', 'tokens'])
      expect(html).toContain(`data-chart="${chart}"`);
    expect(html).toContain('data-task="superlint_demo"');
    expect(html).toContain('20.0% [3.6–62.4] (n=5)');
    expect(html).toContain('100.0% [56.6–100] (n=5)');
    expect(html).toContain('significant: skills help (p=0.048, Holm p=0.048)');
  });

  it('says which correction decided the verdicts and how the Δ interval was drawn', () => {
    const html = renderHtml(reportWith({ task: 'superlint_demo' }));
    expect(html).toContain('p corrected across the tasks of each configuration by Holm (1979)');
    expect(html).toContain('significant when Holm-adjusted p &#60; 0.05');
    expect(html).toContain(
      'percentile bootstrap over tasks (tasks resampled with replacement, 2000 resamples, seed 20211)',
    );
  });

  it('escapes every piece of user text', () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    const html = renderHtml(
      reportWith({ task: hostile, agent: `<b>${hostile}</b>`, errorMessage: `</li><script>${hostile}` }),
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b><');
    expect(html).toContain(escapeHtml(`<b>${hostile}</b>`));
    expect(html).toContain(escapeHtml(hostile));
  });

  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 × 10ⁿ from 0 to at least the maximum', () => {
    expect(niceTicks(100, 4)).toEqual([0, 50, 100]);
    expect(niceTicks(7, 6)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(300_000, 6)).toEqual([0, 50_000, 100_000, 150_000, 200_000, 250_000, 300_000]);
  });

  it('shows the activation funnel, the cost per arm and the tasks within the noise floor', () => {
    const report = reportWith({ task: 'lint-fix', baselinePasses: 4, noiseFloorPp: 25 });
    const text = renderHtml(report);
    expect(text).toContain('Activation funnel (with skill)');
    expect(text).toContain('SKILL.md opened 5 (100.0%)');
    expect(text).toContain('cost $0.1000 → $0.2000 per trial');
    expect(text).toContain('+200.0 pp per extra $ per trial');
    expect(text).toContain('within noise floor');
    expect(text).toContain('Within the noise floor');
  });
});
