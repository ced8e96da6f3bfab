import { describe, expect, it } from 'vitest';
import { AnalysisAccumulator, type AnalysisSettings } from '../../src/analytics/aggregate.js';
import type { AnalysisReport } from '../../src/analytics/report.js';
import type { TrialRecord } from '../../src/results/read.js';
import { EMPTY_READ, trialRecord } from './records.js';

const trial = trialRecord;

const SETTINGS: AnalysisSettings = { passThreshold: 1, includeErrorsAsFailures: false, k: [1, 3] };

/** `passes` passing and `fails` failing trials of one cell. */
function cell(passes: number, fails: number, overrides: Partial<TrialRecord>): TrialRecord[] {
  return [
    ...Array.from({ length: passes }, () => trial({ ...overrides, status: 'passed', reward: 1 })),
    ...Array.from({ length: fails }, () => trial({ ...overrides, status: 'failed', reward: 0 })),
  ];
}

function analyze(records: TrialRecord[], settings: AnalysisSettings = SETTINGS): AnalysisReport {
  const accumulator = new AnalysisAccumulator(settings);
  for (const record of records) accumulator.add(record);
  return accumulator.finish(EMPTY_READ, new Date('2025-01-01T00:00:00Z'));
}

describe('AnalysisAccumulator', () => {
  it('computes the seed README rows with intervals, Δ, g and verdicts', () => {
    const report = analyze([
      ...cell(1, 4, { task: 'superlint_demo', arm: 'no-skills' }),
      ...cell(5, 0, { task: 'superlint_demo', arm: 'with-skills' }),
      ...cell(2, 2, { task: 'data_cleanup', arm: 'no-skills' }),
      ...cell(3, 1, { task: 'data_cleanup', arm: 'with-skills' }),
    ]);
    expect(report.configs).toHaveLength(1);
    const [dataCleanup, superlint] = report.configs[0]!.tasks;
    expect(superlint!.task).toBe('superlint_demo');
    expect(superlint!.arms['no-skills']!.passRate).toBeCloseTo(0.2, 12);
    expect(superlint!.arms['with-skills']!.passRateCi.low).toBeCloseTo(0.565522, 5);
    expect(superlint!.gain).toBeCloseTo(1, 12);
    expect(superlint!.deltaPp).toBeCloseTo(80, 9);
    // Raw p = 12/252 < 0.05, but Holm over the two tasks doubles it: 0.095, not significant.
    expect(superlint!.significance).toEqual({
      verdict: 'inconclusive',
      pValue: expect.closeTo(12 / 252, 12),
      adjustedPValue: expect.closeTo(24 / 252, 12),
    });
    expect(dataCleanup!.gain).toBeCloseTo(0.5, 12);
    expect(dataCleanup!.significance.verdict).toBe('inconclusive');

    const summary = report.configs[0]!.summary;
    // Macro means: (0.2 + 0.5)/2 = 0.35 and (1 + 0.75)/2 = 0.875; g = 0.525/0.65.
    expect(summary.arms['no-skills']!.passRate).toBeCloseTo(0.35, 12);
    expect(summary.arms['with-skills']!.passRate).toBeCloseTo(0.875, 12);
    expect(summary.paired.gain).toBeCloseTo(0.525 / 0.65, 12);
    // Task-level CI of [0.2, 0.5]: 1.96 · sd(0.2121) / √2 = 0.294.
    expect(summary.arms['no-skills']!.passRateCiHalfWidth).toBeCloseTo(0.294, 9);
    expect(summary.negativeDeltaTasks).toEqual([]);
    expect(summary).toMatchObject({ correction: 'holm', testedTasks: 2, significantlyBetterTasks: 0 });
  });

  it('decides verdicts on the corrected p: none keeps the raw verdict, BH and Holm correct within the configuration', () => {
    const records = [
      ...cell(1, 4, { task: 'superlint_demo', arm: 'no-skills' }),
      ...cell(5, 0, { task: 'superlint_demo', arm: 'with-skills' }),
      ...cell(2, 2, { task: 'data_cleanup', arm: 'no-skills' }),
      ...cell(3, 1, { task: 'data_cleanup', arm: 'with-skills' }),
      // Another model: its own family, so its one task is not corrected for the two above.
      ...cell(1, 4, { task: 'superlint_demo', arm: 'no-skills', model: 'opus' }),
      ...cell(5, 0, { task: 'superlint_demo', arm: 'with-skills', model: 'opus' }),
    ];
    const none = analyze(records, { ...SETTINGS, correction: 'none' });
    const sonnet = none.configs.find((config) => config.model === 'sonnet')!;
    expect(sonnet.tasks[1]!.significance).toMatchObject({ verdict: 'significant', direction: 'skills help' });
    expect(sonnet.tasks[1]!.significance.adjustedPValue).toBe(sonnet.tasks[1]!.significance.pValue);
    expect(none.options.correction).toBe('none');
    const bh = analyze(records, { ...SETTINGS, correction: 'bh' });
    // BH over the two tasks: sorted 0.0476, 1 → min(2 · 0.0476 / 1, 2 · 1 / 2) = 0.095.
    expect(bh.configs.find((config) => config.model === 'sonnet')!.tasks[1]!.significance).toMatchObject({
      verdict: 'inconclusive',
      adjustedPValue: expect.closeTo(24 / 252, 12),
    });
    const opus = analyze(records).configs.find((config) => config.model === 'opus')!;
    expect(opus.tasks[0]!.significance).toMatchObject({
      verdict: 'significant',
      adjustedPValue: expect.closeTo(12 / 252, 12),
    });
    expect(opus.summary).toMatchObject({ testedTasks: 1, significantlyBetterTasks: 1 });
  });

  it('lists the tasks where skills hurt with their raw and corrected p', () => {
    const report = analyze([
      ...cell(10, 0, { task: 'broken', arm: 'no-skills' }),
      ...cell(0, 10, { task: 'broken', arm: 'with-skills' }),
      ...cell(3, 1, { task: 'slight', arm: 'no-skills' }),
      ...cell(2, 2, { task: 'slight', arm: 'with-skills' }),
      ...cell(1, 1, { task: 'fine', arm: 'no-skills' }),
      ...cell(2, 0, { task: 'fine', arm: 'with-skills' }),
    ]);
    const { summary } = report.configs[0]!;
    expect(summary.negativeDeltaTasks).toEqual(['broken', 'slight']);
    // Raw p: broken 2/C(20,10) = 1.08e-5, slight 1, fine 1; Holm: 3 · 1.08e-5, 1, 1.
    expect(summary.hurtTasks).toEqual([
      {
        task: 'broken',
        deltaPp: -100,
        pValue: expect.closeTo(2 / 184_756, 15),
        adjustedPValue: expect.closeTo(6 / 184_756, 15),
        significant: true,
      },
      { task: 'slight', deltaPp: -25, pValue: expect.closeTo(1, 12), adjustedPValue: 1, significant: false },
    ]);
    expect(summary.significantlyWorseTasks).toBe(1);
  });

  it('puts a seeded bootstrap interval over tasks beside the aggregate Δ', () => {
    const records = [
      ...cell(1, 4, { task: 'a', arm: 'no-skills' }),
      ...cell(5, 0, { task: 'a', arm: 'with-skills' }),
      ...cell(2, 2, { task: 'b', arm: 'no-skills' }),
      ...cell(3, 1, { task: 'b', arm: 'with-skills' }),
      ...cell(3, 1, { task: 'c', arm: 'no-skills' }),
      ...cell(2, 2, { task: 'c', arm: 'with-skills' }),
    ];
    const report = analyze(records);
    const { paired } = report.configs[0]!.summary;
    // Per-task Δ: +80, +25, −25; mean +26.7; resamples of three tasks range over [−25, +80].
    expect(paired.deltaPp).toBeCloseTo(80 / 3, 9);
    expect(paired.deltaPpCi!.low).toBeLessThan(paired.deltaPp!);
    expect(paired.deltaPpCi!.high).toBeGreaterThan(paired.deltaPp!);
    expect(paired.deltaPpCi!.low).toBeGreaterThanOrEqual(-25);
    expect(paired.deltaPpCi!.high).toBeLessThanOrEqual(80);
    expect(analyze(records).configs[0]!.summary.paired.deltaPpCi).toEqual(paired.deltaPpCi);
    expect(report.options.bootstrap).toEqual({ resamples: 2000, seed: 20_211, level: 0.95 });
    const one = analyze(records.filter((record) => record.task === 'a'));
    expect(one.configs[0]!.summary.paired.deltaPpCi).toBeUndefined();
  });

  it('never pools agents or models: each agent × model is its own configuration', () => {
    const report = analyze([
      ...cell(1, 0, { agent: 'claude-code', model: 'sonnet', arm: 'with-skills' }),
      ...cell(0, 1, { agent: 'claude-code', model: 'opus', arm: 'with-skills' }),
      ...cell(0, 1, { agent: 'codex', model: 'sonnet', arm: 'with-skills' }),
    ]);
    expect(report.configs.map((config) => config.label)).toEqual([
      'claude-code · opus',
      'claude-code · sonnet',
      'codex · sonnet',
    ]);
    expect(report.configs.map((config) => config.tasks[0]!.arms['with-skills']!.passRate)).toEqual([0, 1, 0]);
  });

  it('reports a missing arm as "no data", never as 0 %', () => {
    const report = analyze(cell(3, 1, { arm: 'with-skills' }));
    const row = report.configs[0]!.tasks[0]!;
    expect(row.arms['no-skills']).toBeUndefined();
    expect(row.deltaPp).toBeUndefined();
    expect(row.gain).toBeUndefined();
    expect(row.significance.verdict).toBe('no data');
    expect(report.configs[0]!.summary.arms['no-skills']).toBeUndefined();
    expect(report.configs[0]!.summary.paired).toEqual({
      tasks: 0,
      passRateWith: undefined,
      passRateWithout: undefined,
      deltaPp: undefined,
      gain: undefined,
    });
  });

  it('excludes infra and verifier errors by default and names them', () => {
    const records = [
      ...cell(1, 1, { arm: 'no-skills' }),
      trial({
        arm: 'no-skills',
        status: 'infra_error',
        reward: undefined,
        trialName: 'infra-1',
        errorMessage: 'engine down',
      }),
      trial({ arm: 'no-skills', status: 'verifier_error', reward: undefined, trialName: 'verifier-1' }),
    ];
    const report = analyze(records);
    const stats = report.configs[0]!.tasks[0]!.arms['no-skills']!;
    expect(stats.trials).toBe(2);
    expect(stats.passRate).toBe(0.5);
    expect(stats.excluded).toBe(2);
    expect(report.errors.count).toBe(2);
    expect(report.errors.byStatus).toEqual({ infra_error: 1, verifier_error: 1 });
    expect(report.errors.trials.map((t) => t.trial)).toEqual(['infra-1', 'verifier-1']);
    expect(report.errors.trials[0]!.message).toBe('engine down');

    const counted = analyze(records, { ...SETTINGS, includeErrorsAsFailures: true });
    const countedStats = counted.configs[0]!.tasks[0]!.arms['no-skills']!;
    expect(countedStats.trials).toBe(4);
    expect(countedStats.passRate).toBe(0.25);
    expect(countedStats.excluded).toBe(0);
    expect(counted.errors.countedAsFailures).toBe(true);
  });

  it('counts agent timeouts and errors as trials: the reward decides, no reward is a failure', () => {
    const report = analyze([
      trial({ arm: 'no-skills', status: 'agent_timeout', reward: 1 }),
      trial({ arm: 'no-skills', status: 'agent_error', reward: undefined }),
      trial({ arm: 'no-skills', status: 'agent_error', reward: 0 }),
    ]);
    const stats = report.configs[0]!.tasks[0]!.arms['no-skills']!;
    expect(stats.trials).toBe(3);
    expect(stats.passes).toBe(1);
    expect(stats.meanReward).toBeCloseTo(1 / 3, 12);
    expect(report.errors.count).toBe(0);
  });

  it('decides pass/fail from the reward at the pass threshold', () => {
    const records = [trial({ reward: 0.8, status: 'failed' }), trial({ reward: 0.5, status: 'failed' })];
    expect(analyze(records).configs[0]!.tasks[0]!.arms['with-skills']!.passes).toBe(0);
    expect(
      analyze(records, { ...SETTINGS, passThreshold: 0.75 }).configs[0]!.tasks[0]!.arms['with-skills']!.passes,
    ).toBe(1);
  });

  it('leaves g undefined at a 100 % baseline and flags negative deltas', () => {
    const report = analyze([
      ...cell(4, 0, { task: 'easy', arm: 'no-skills' }),
      ...cell(3, 1, { task: 'easy', arm: 'with-skills' }),
    ]);
    const row = report.configs[0]!.tasks[0]!;
    expect(row.gain).toBeUndefined();
    expect(row.deltaPp).toBeCloseTo(-25, 9);
    expect(row.negativeDelta).toBe(true);
    expect(report.configs[0]!.summary.negativeDeltaTasks).toEqual(['easy']);
    expect(report.configs[0]!.summary.paired.gain).toBeUndefined();
  });

  it('computes the paired comparison over tasks that have both arms only', () => {
    const report = analyze([
      ...cell(1, 1, { task: 'both', arm: 'no-skills' }),
      ...cell(2, 0, { task: 'both', arm: 'with-skills' }),
      ...cell(0, 2, { task: 'only-with', arm: 'with-skills' }),
    ]);
    const { summary } = report.configs[0]!;
    expect(summary.arms['with-skills']!.passRate).toBeCloseTo(0.5, 12);
    expect(summary.paired.tasks).toBe(1);
    expect(summary.paired.passRateWith).toBe(1);
    expect(summary.paired.gain).toBe(1);
  });

  it('reports pass@k per task and its macro mean over tasks with at least k trials', () => {
    const report = analyze([
      ...cell(1, 4, { task: 'five', arm: 'no-skills' }),
      ...cell(1, 1, { task: 'two', arm: 'no-skills' }),
    ]);
    const [five, two] = report.configs[0]!.tasks;
    expect(five!.arms['no-skills']!.passAtK['3']).toBeCloseTo(0.6, 12);
    expect(two!.arms['no-skills']!.passAtK['3']).toBeUndefined();
    const summary = report.configs[0]!.summary.arms['no-skills']!;
    expect(summary.passAtK['3']).toEqual({ value: expect.closeTo(0.6, 12), tasks: 1 });
    expect(summary.passAtK['1']).toEqual({ value: expect.closeTo(0.35, 12), tasks: 2 });
  });

  it('measures skill activation among the with-skills trials that report it', () => {
    const report = analyze([
      trial({ skillsActivated: ['lint'] }),
      trial({ skillsActivated: ['lint', 'fmt'] }),
      trial({ skillsActivated: [] }),
      trial({ skillsActivated: undefined }),
      trial({ arm: 'no-skills', skillsActivated: [] }),
    ]);
    expect(report.configs[0]!.summary.skillActivation).toEqual({ rate: 2 / 3, reported: 3, activated: 2 });
  });

  it('keeps a bounded, reproducible sample of trials for the plots', () => {
    const records = Array.from({ length: 500 }, (_, index) => trial({ durationMs: index }));
    const first = analyze(records, { ...SETTINGS, sampleSize: 50 });
    const second = analyze(records, { ...SETTINGS, sampleSize: 50 });
    const sample = first.configs[0]!.samples['with-skills']!;
    expect(sample).toHaveLength(50);
    expect(sample).toEqual(second.configs[0]!.samples['with-skills']);
    // Uniform over all 500, not just the first 50.
    expect(Math.max(...sample.map((s) => s.durationMs!))).toBeGreaterThan(250);
  });

  it('reports tokens and cost per arm over the paired tasks, and Δ per extra dollar and per 1k tokens', () => {
    const report = analyze([
      ...cell(1, 1, { task: 'a', arm: 'no-skills', tokens: 1000, costUsd: 0.01 }),
      ...cell(2, 0, { task: 'a', arm: 'with-skills', tokens: 3000, costUsd: 0.03, judgeCalls: 1 }),
      // Unpaired: left out of the cost, as it is of Δ.
      ...cell(1, 0, { task: 'b', arm: 'with-skills', tokens: 99_000, costUsd: 9 }),
    ]);
    const cost = report.configs[0]!.summary.cost;
    expect(cost.arms['no-skills']).toEqual({
      trials: 2,
      tokenTrials: 2,
      meanTokens: 1000,
      costTrials: 2,
      meanCostUsd: 0.01,
      judgeCalls: 0,
    });
    expect(cost.arms['with-skills']).toMatchObject({ trials: 2, meanTokens: 3000, judgeCalls: 2 });
    expect(cost.arms['with-skills']!.meanCostUsd).toBeCloseTo(0.03, 12);
    // Δ = +50 pp for 2,000 extra tokens and $0.02 extra per trial.
    expect(cost.deltaPpPer1kTokens).toBeCloseTo(25, 9);
    expect(cost.deltaPpPerUsd).toBeCloseTo(2500, 6);
  });

  it('has no Δ per dollar when no trial reported a cost', () => {
    const report = analyze([...cell(1, 1, { arm: 'no-skills' }), ...cell(2, 0, { arm: 'with-skills' })]);
    const cost = report.configs[0]!.summary.cost;
    expect(cost.arms['with-skills']!.costTrials).toBe(0);
    expect(cost.arms['with-skills']!.meanCostUsd).toBeUndefined();
    expect(cost.deltaPpPerUsd).toBeUndefined();
  });

  it('marks the tasks whose |Δ| is below the noise floor', () => {
    const records = [
      ...cell(5, 5, { task: 'noise', arm: 'no-skills' }),
      ...cell(5, 5, { task: 'noise', arm: 'with-skills' }),
      ...cell(0, 10, { task: 'real', arm: 'no-skills' }),
      ...cell(10, 0, { task: 'real', arm: 'with-skills' }),
    ];
    const report = analyze(records, { ...SETTINGS, noiseFloorPp: 10 });
    const [noise, real] = report.configs[0]!.tasks;
    expect(noise!.withinNoise).toBe(true);
    expect(real!.withinNoise).toBe(false);
    expect(report.configs[0]!.summary.withinNoiseTasks).toEqual(['noise']);
    expect(report.options.noiseFloorPp).toBe(10);
    const without = analyze(records);
    expect(without.configs[0]!.tasks[0]!.withinNoise).toBeUndefined();
    expect(without.configs[0]!.summary.withinNoiseTasks).toBeUndefined();
  });
});
