import type { ReadSummary, TrialRecord } from '../../src/results/read.js';

/** What reading found, for analytics tests that build their records by hand. */
export const EMPTY_READ: ReadSummary = {
  searched: ['/results'],
  filesRead: 0,
  trialResults: 0,
  legacyReports: 0,
  legacyTrials: 0,
  skippedReportFiles: 0,
  ignoredFiles: 0,
  duplicateTrials: 0,
  problems: [],
};

let sequence = 0;

/** A passed with-skills trial of task-a by claude-code/sonnet, with `overrides`; each one a new trial id. */
export function trialRecord(overrides: Partial<TrialRecord>): TrialRecord {
  sequence++;
  return {
    source: 'trial-result',
    file: `/results/t${sequence}/result.json`,
    trialId: `t${sequence}`,
    trialName: `trial-${sequence}`,
    task: 'task-a',
    agent: 'claude-code',
    model: 'sonnet',
    arm: 'with-skills',
    status: 'passed',
    reward: 1,
    durationMs: 1000,
    tokens: 500,
    skillsActivated: undefined,
    errorMessage: undefined,
    ...overrides,
  };
}
