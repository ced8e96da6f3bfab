import { describe, expect, it } from 'vitest';
import { renderTerminal } from '../../../src/analytics/render/terminal.js';
import { reportWith } from './report-fixture.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what the ANSI colour codes start with
const ANSI = /\u001b\[[0-9;]*m/g;

describe('renderTerminal', () => {
  it('keeps the original columns, now with intervals and a verdict', () => {
    const text = renderTerminal(reportWith({ task: 'superlint_demo' }), { color: false });
    const lines = text.split('\n');
    const header = lines.find((line) => line.startsWith('Task'))!;
    expect(header.split('│').map((cell) => cell.trim())).toEqual([
      'Task',
      'Pass Rate (No Skill)',
      'Pass Rate (With Skill)',
      'Δ',
      'Normalized Gain',
      'Verdict',
    ]);
    expect(lines.find((line) => line.startsWith('superlint_demo'))).toBe(
      'superlint_demo │ 20.0% [3.6–62.4] (n=5) │ 100.0% [56.6–100] (n=5) │ +80.0 pp │            1.00 │ significant: skills help (p=0.048, Holm p=0.048)',
    );
  });

  it('colours only when asked, without moving a column', () => {
    const report = reportWith({ task: 'superlint_demo', baselinePasses: 5 });
    const plain = renderTerminal(report, { color: false });
    const coloured = renderTerminal(report, { color: true });
    expect(plain).not.toMatch(ANSI);
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });

  it('writes an undefined gain as — and names the errored trials', () => {
    const text = renderTerminal(reportWith({ task: 'easy', baselinePasses: 5, errorMessage: 'engine down' }), {
      color: false,
    });
    expect(text).toMatch(/easy │ .* │ +0\.0 pp │ +— │ inconclusive \(p=1\.000, Holm p=1\.000\)/);
    expect(text).toContain('1 errored trial (1 infra_error), excluded from the rates:');
    expect(text).toContain('easy__with-skills__11 [infra_error] engine down');
  });

  it('shows the activation funnel, the cost per arm and the tasks within the noise floor', () => {
    const report = reportWith({ task: 'lint-fix', baselinePasses: 4, noiseFloorPp: 25 });
    const text = renderTerminal(report, { color: false });
    expect(text).toContain('Activation funnel (with skill)');
    expect(text).toContain('SKILL.md opened 5 (100.0%)');
    expect(text).toContain('cost $0.1000 → $0.2000 per trial');
    expect(text).toContain('+200.0 pp per extra $ per trial');
    expect(text).toContain('within noise floor');
    expect(text).toContain('Within the noise floor');
  });
});
