import { describe, expect, it } from 'vitest';
import { escapeMarkdown, renderMarkdown } from '../../../src/analytics/render/markdown.js';
import { reportWith } from './report-fixture.js';

describe('renderMarkdown', () => {
  it('renders a GitHub table per configuration with the summary below', () => {
    const markdown = renderMarkdown(reportWith({ task: 'lint' }));
    expect(markdown).toContain('## claude-code · sonnet');
    expect(markdown).toContain(
      '| Task | Pass Rate (No Skill) | Pass Rate (With Skill) | Δ | Normalized Gain | Verdict |',
    );
    expect(markdown).toContain(
      '| lint | 20.0% [3.6–62.4] (n=5) | 100.0% [56.6–100] (n=5) | +80.0 pp | 1.00 | significant: skills help (p=0.048, Holm p=0.048) |',
    );
    expect(markdown).toContain('- **Normalized gain g (aggregate):** 1.00');
    expect(markdown).toContain(
      '- **Significant (Fisher, Holm-adjusted p < 0.05):** 1 better, 0 worse (corrected over 1 tested task)',
    );
    expect(markdown).toContain('p corrected across the tasks of each configuration by Holm (1979)');
  });

  it('keeps user text from breaking the table or becoming markup', () => {
    expect(escapeMarkdown('a|b <img> *x*\nnext')).toBe('a\\|b \\<img\\> \\*x\\* next');
    const markdown = renderMarkdown(reportWith({ task: 'a|b' }));
    expect(markdown).toContain('| a\\|b |');
  });

  it('shows the activation funnel, the cost per arm and the tasks within the noise floor', () => {
    const report = reportWith({ task: 'lint-fix', baselinePasses: 4, noiseFloorPp: 25 });
    const text = renderMarkdown(report);
    expect(text).toContain('Activation funnel (with skill)');
    expect(text).toContain('SKILL.md opened 5 (100.0%)');
    expect(text).toContain('cost $0.1000 → $0.2000 per trial');
    expect(text).toContain('+200.0 pp per extra $ per trial');
    expect(text).toContain('within noise floor');
    expect(text).toContain('Within the noise floor');
  });
});
