import { describe, expect, it } from 'vitest';
import type { GraderResult } from '../../src/graders/types.js';
import { combineScores } from '../../src/graders/weighting.js';

const line = (name: string, weight: number, score?: number, error?: string): GraderResult => ({
  name,
  type: 'deterministic',
  weight,
  score,
  error,
});

describe('combineScores', () => {
  it('is Σ score·weight / Σ weight', () => {
    expect(combineScores([line('a', 0.5, 1), line('b', 0.3, 0.5), line('c', 0.2, 0)])).toEqual({
      ok: true,
      reward: 0.65,
    });
    expect(combineScores([line('a', 2, 1), line('b', 2, 0)])).toEqual({ ok: true, reward: 0.5 });
    expect(combineScores([line('only', 1, 0.25)])).toEqual({ ok: true, reward: 0.25 });
  });

  it('has no reward (never 0) when any grader has no score, naming it', () => {
    expect(combineScores([line('a', 1, 1), line('judge', 1, undefined, 'HTTP 500')])).toEqual({
      ok: false,
      message: 'grader "judge" (deterministic): HTTP 500',
    });
    expect(combineScores([]).ok).toBe(false);
  });
});
