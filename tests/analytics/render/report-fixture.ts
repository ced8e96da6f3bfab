import { AnalysisAccumulator } from '../../../src/analytics/aggregate.js';
import type { AnalysisReport } from '../../../src/analytics/report.js';
import type { TrialRecord } from '../../../src/results/read.js';

/** A one-task report: `baselinePasses`/5 without skills (default 1), 5/5 with. */
export function reportWith(options: {
  task: string;
  agent?: string;
  baselinePasses?: number;
  errorMessage?: string;
  noiseFloorPp?: number;
}): AnalysisReport {
  const accumulator = new AnalysisAccumulator({
    passThreshold: 1,
    includeErrorsAsFailures: false,
    k: [1, 3],
    noiseFloorPp: options.noiseFloorPp,
  });
  let sequence = 0;
  const add = (arm: TrialRecord['arm'], passed: boolean, status?: TrialRecord['status']): void => {
    sequence++;
    accumulator.add({
      source: 'trial-result',
      file: `/r/${sequence}/result.json`,
      trialId: String(sequence),
      trialName: `${options.task}__${arm}__${sequence}`,
      task: options.task,
      agent: options.agent ?? 'claude-code',
      model: 'sonnet',
      arm,
      status: status ?? (passed ? 'passed' : 'failed'),
      reward: status === 'infra_error' ? undefined : passed ? 1 : 0,
      durationMs: 60_000 + sequence * 1000,
      tokens: 20_000 + sequence * 100,
      costUsd: arm === 'with-skills' ? 0.2 : 0.1,
      skillsActivated: arm === 'with-skills' ? ['lint'] : undefined,
      errorMessage: status === 'infra_error' ? options.errorMessage : undefined,
    });
  };
  const baseline = options.baselinePasses ?? 1;
  for (let i = 0; i < 5; i++) add('no-skills', i < baseline);
  for (let i = 0; i < 5; i++) add('with-skills', true);
  if (options.errorMessage !== undefined) add('with-skills', false, 'infra_error');
  return accumulator.finish(
    {
      searched: ['/r'],
      filesRead: sequence,
      trialResults: sequence,
      legacyReports: 0,
      legacyTrials: 0,
      skippedReportFiles: 0,
      ignoredFiles: 0,
      duplicateTrials: 0,
      problems: [],
    },
    new Date('2025-01-01T00:00:00Z'),
  );
}
