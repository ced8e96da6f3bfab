import { describe, expect, it } from 'vitest';
import { csvColumns, renderCsv } from '../../../src/analytics/render/csv.js';
import { reportWith } from './report-fixture.js';

describe('renderCsv', () => {
  it('writes one row per configuration × task under a fixed header', () => {
    const csv = renderCsv(reportWith({ task: 'superlint_demo' }));
    const [header, row, end] = csv.split('\r\n');
    expect(header).toBe(csvColumns([1, 3]).join(','));
    expect(end).toBe('');
    const cells = Object.fromEntries(csvColumns([1, 3]).map((column, index) => [column, row!.split(',')[index]]));
    expect(cells).toMatchObject({
      agent: 'claude-code',
      task: 'superlint_demo',
      no_skills_trials: '5',
      no_skills_passes: '1',
      no_skills_pass_rate: '0.2',
      with_skills_pass_rate: '1',
      with_skills_ci_high: '1',
      with_skills_pass_at_3: '1',
      delta_pp: '80',
      normalized_gain: '1',
      p_adjusted: String(Number((12 / 252).toPrecision(12))),
      correction: 'holm',
      verdict: 'significant',
      direction: 'skills help',
      negative_delta: 'false',
    });
    expect(Number(cells.no_skills_ci_low)).toBeCloseTo(0.036224, 5);
  });

  it('quotes commas and quotes, and defuses spreadsheet formulas in user text', () => {
    const csv = renderCsv(reportWith({ task: '=HYPERLINK("x"),y' }));
    expect(csv.split('\r\n')[1]).toContain(`"'=HYPERLINK(""x""),y"`);
  });

  it('leaves undefined values empty, never 0', () => {
    const csv = renderCsv(reportWith({ task: 't', baselinePasses: 5 }));
    const cells = Object.fromEntries(
      csvColumns([1, 3]).map((column, index) => [column, csv.split('\r\n')[1]!.split(',')[index]]),
    );
    expect(cells.normalized_gain).toBe('');
    expect(cells.delta_pp).toBe('0');
  });
});
