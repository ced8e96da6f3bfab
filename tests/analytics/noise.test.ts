import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoiseAccumulator, noiseFloorOf, readNoiseFloor } from '../../src/analytics/noise.js';
import type { TrialRecord } from '../../src/results/read.js';

let sequence = 0;
function trial(jobId: string, passed: boolean, overrides: Partial<TrialRecord> = {}): TrialRecord {
  sequence++;
  return {
    source: 'trial-result',
    file: `/aa/${sequence}/result.json`,
    trialId: `aa${sequence}`,
    trialName: `aa-${sequence}`,
    task: 'task-a',
    agent: 'claude-code',
    model: 'sonnet',
    arm: 'no-skills',
    status: passed ? 'passed' : 'failed',
    reward: passed ? 1 : 0,
    durationMs: undefined,
    tokens: undefined,
    skillsActivated: undefined,
    errorMessage: undefined,
    jobId,
    ...overrides,
  };
}

/** `passes` of `trials` in one job for one task. */
function run(jobId: string, task: string, passes: number, trials: number): TrialRecord[] {
  return Array.from({ length: trials }, (_, index) => trial(jobId, index < passes, { task }));
}

describe('NoiseAccumulator', () => {
  it('an eval --aa job is a pair by itself: the arm and its replica are two runs', () => {
    const accumulator = new NoiseAccumulator(1);
    const replica = (record: TrialRecord): TrialRecord => ({ ...record, arm: 'no-skills~aa' });
    for (const record of [...run('aa-job', 'a', 3, 4), ...run('aa-job', 'a', 1, 4).map(replica)])
      accumulator.add(record);
    // A with-skills trial of the same job is another cell, with no pair.
    accumulator.add(trial('aa-job', true, { task: 'a', arm: 'with-skills' }));
    expect(accumulator.deltas()).toEqual([50]);
  });

  it('takes |Δ| between the first two jobs of each task × configuration × arm', () => {
    const accumulator = new NoiseAccumulator(1);
    for (const record of [
      ...run('job-1', 'a', 3, 4),
      ...run('job-2', 'a', 2, 4),
      ...run('job-1', 'b', 4, 4),
      ...run('job-2', 'b', 4, 4),
      // One job only: no pair.
      ...run('job-1', 'c', 1, 4),
    ])
      accumulator.add(record);
    expect(accumulator.deltas().sort()).toEqual([0, 25]);
  });

  it('leaves out errors and reused trials, which measure no noise', () => {
    const accumulator = new NoiseAccumulator(1);
    accumulator.add(trial('job-1', true));
    accumulator.add(trial('job-2', true));
    accumulator.add(trial('job-2', false, { status: 'infra_error', reward: undefined }));
    accumulator.add(trial('job-2', false, { reusedFrom: 'job-1' }));
    expect(accumulator.deltas()).toEqual([0]);
  });
});

describe('noiseFloorOf', () => {
  it('is the nearest-rank 95th percentile of the A/A |Δ|', () => {
    const deltas = Array.from({ length: 20 }, (_, index) => index * 5);
    // rank ⌈0.95 · 20⌉ = 19 → the 19th smallest, 90.
    expect(noiseFloorOf(deltas)).toEqual({ floorPp: 90, pairs: 20, maxPp: 95 });
    expect(noiseFloorOf([12.5])).toEqual({ floorPp: 12.5, pairs: 1, maxPp: 12.5 });
    expect(noiseFloorOf([])).toBeUndefined();
  });
});

describe('readNoiseFloor', () => {
  it('refuses a directory without an A/A pair', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-noise-'));
    try {
      await expect(readNoiseFloor([dir], 1)).rejects.toThrow(`--noise-from: no A/A pair in ${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
