import { describe, expect, it } from 'vitest';
import { AnalysisAccumulator, type AnalysisSettings } from '../../src/analytics/aggregate.js';
import type { TrialRecord } from '../../src/results/record.js';
import { EMPTY_READ, trialRecord } from './records.js';

const SETTINGS: AnalysisSettings = { passThreshold: 1, includeErrorsAsFailures: false, k: [1] };

function analyze(records: TrialRecord[]) {
  const accumulator = new AnalysisAccumulator(SETTINGS);
  for (const record of records) accumulator.add(record);
  return accumulator.finish(EMPTY_READ, new Date('2026-01-01T00:00:00Z'));
}

describe('analyze: model ids served (pinning)', () => {
  it('names a job whose calls were served by different model ids, and only such a job', () => {
    const report = analyze([
      trialRecord({ jobId: 'a', modelsServed: ['claude-sonnet-4-5-20250929'] }),
      trialRecord({ jobId: 'a', modelsServed: ['claude-sonnet-4-5-20251101'] }),
      trialRecord({ jobId: 'b', modelsServed: ['gpt-5'] }),
      trialRecord({ jobId: 'b', modelsServed: ['gpt-5'] }),
    ]);
    expect(report.modelsServed).toEqual([
      { jobId: 'a', models: ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20251101'] },
    ]);
  });

  it('says nothing when every job was served by one id or had no gateway', () => {
    expect(
      analyze([trialRecord({ jobId: 'b', modelsServed: ['gpt-5'] }), trialRecord({ jobId: 'c' })]).modelsServed,
    ).toBeUndefined();
  });
});
