import { describe, expect, it } from 'vitest';
import { AnalysisAccumulator, type AnalysisSettings } from '../../src/analytics/aggregate.js';
import { renderMarkdown } from '../../src/analytics/render/markdown.js';
import { renderTerminal } from '../../src/analytics/render/terminal.js';
import type { AnalysisReport } from '../../src/analytics/report.js';
import type { ReadSummary, TrialRecord } from '../../src/results/read.js';
import { EMPTY_READ, trialRecord } from './records.js';

const SETTINGS: AnalysisSettings = { passThreshold: 1, includeErrorsAsFailures: false, k: [1] };
/** What the reader saw: the six trials below. */
const READ: ReadSummary = { ...EMPTY_READ, filesRead: 6, trialResults: 6 };

/** A passed no-skills trial of task-a by claude-code (no model, no token count), with `overrides`. */
const trial = (overrides: Partial<TrialRecord>): TrialRecord =>
  trialRecord({ model: undefined, arm: 'no-skills', tokens: undefined, ...overrides });

/** Baseline: 1 clean failure, 2 contaminated passes; with skills: 2 passes, one of them tampering. */
const RECORDS: TrialRecord[] = [
  trial({ status: 'failed', reward: 0 }),
  trial({ trialName: 'leak-1', contaminated: true, auditNote: 'skill reached the baseline: skill_file /root/x' }),
  trial({ trialName: 'leak-2', contaminated: true }),
  trial({ arm: 'with-skills' }),
  trial({
    arm: 'with-skills',
    trialName: 'hack-1',
    tampered: true,
    auditNote: 'touched: added /logs/verifier/reward.txt',
  }),
  trial({ trialName: 'hack-2', status: 'verifier_error', reward: undefined, tampered: true }),
];

function analyze(settings: AnalysisSettings = SETTINGS): AnalysisReport {
  const accumulator = new AnalysisAccumulator(settings);
  for (const record of RECORDS) accumulator.add(record);
  return accumulator.finish(READ, new Date('2025-01-01T00:00:00Z'));
}

describe('contaminated and tampering trials in analyze', () => {
  it('leaves contaminated no-skills trials out of the rates by default, and counts them', () => {
    const report = analyze();
    const baseline = report.configs[0]!.tasks[0]!.arms['no-skills']!;
    expect(baseline.trials).toBe(1);
    expect(baseline.passRate).toBe(0);
    expect(baseline.contaminated).toBe(2);
    expect(baseline.excluded).toBe(1);
    expect(report.options.includeContaminated).toBe(false);
    expect(report.contamination).toMatchObject({ included: false, count: 2, byArm: { 'no-skills': 2 } });
    expect(report.contamination.trials.map((t) => t.trial)).toEqual(['leak-1', 'leak-2']);
    expect(report.configs[0]!.tasks[0]!.deltaPp).toBe(100);
  });

  it('counts them in the rates with includeContaminated', () => {
    const report = analyze({ ...SETTINGS, includeContaminated: true });
    const baseline = report.configs[0]!.tasks[0]!.arms['no-skills']!;
    expect(baseline.trials).toBe(3);
    expect(baseline.passes).toBe(2);
    expect(baseline.contaminated).toBe(0);
    expect(report.contamination).toMatchObject({ included: true, count: 2 });
  });

  it('counts tampering trials per arm, errored ones too, and never changes their reward', () => {
    const report = analyze();
    expect(report.tamper.count).toBe(2);
    expect(report.tamper.byArm).toEqual({ 'no-skills': 1, 'with-skills': 1 });
    expect(report.configs[0]!.tasks[0]!.arms['with-skills']!.passRate).toBe(1);
  });

  it('shows both in the terminal and in Markdown', () => {
    const report = analyze();
    const terminal = renderTerminal(report, { color: false });
    expect(terminal).toContain(
      '2 contaminated no-skills trials (a skill reached the baseline), excluded from the rates:',
    );
    expect(terminal).toContain('leak-1 skill reached the baseline: skill_file /root/x');
    expect(terminal).toContain(
      "2 trials touched verifier territory (1 no-skills, 1 with-skills); rewards are the verifier's:",
    );
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('## Contaminated no-skills trials (2, excluded from the rates)');
    expect(markdown).toContain('## Trials that touched verifier territory (2: 1 no-skills, 1 with-skills)');
    expect(markdown).toContain('- `hack-1` (with-skills): touched: added /logs/verifier/reward.txt');
  });

  it('says nothing of audits when no trial was flagged', () => {
    const accumulator = new AnalysisAccumulator(SETTINGS);
    accumulator.add(trial({}));
    const report = accumulator.finish(READ);
    expect(renderTerminal(report, { color: false })).not.toMatch(/contaminated|verifier territory/);
    expect(renderMarkdown(report)).not.toMatch(/Contaminated|verifier territory/);
  });
});
