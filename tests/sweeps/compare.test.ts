import { describe, expect, it } from 'vitest';
import { changesVsBaseline, newcombeDifference } from '../../src/sweeps/compare.js';
import type { SweepRun } from '../../src/sweeps/schema.js';

const run = (target: string, score: number, successes: number | undefined, samples: number, ok = true): SweepRun => ({
  target,
  mode: 'smoke',
  ok,
  rollout_ok: true,
  evaluation_ok: ok,
  score,
  successes,
  samples,
  started_at: '2026-01-01T00:00:00.000Z',
  duration_ms: 1,
});

describe('change vs baseline', () => {
  it('reproduces Newcombe (1998), method 10: 56/70 − 48/80 → [0.0524, 0.3339]', () => {
    const interval = newcombeDifference({ successes: 56, trials: 70 }, { successes: 48, trials: 80 })!;
    expect(interval.low).toBeCloseTo(0.0524, 4);
    expect(interval.high).toBeCloseTo(0.3339, 4);
  });

  it('stays inside [−1, 1] at the extremes and is undefined without trials', () => {
    const interval = newcombeDifference({ successes: 12, trials: 12 }, { successes: 0, trials: 12 })!;
    expect(interval.high).toBe(1);
    expect(interval.low).toBeGreaterThan(0.6);
    expect(newcombeDifference({ successes: 0, trials: 0 }, { successes: 0, trials: 5 })).toBeUndefined();
  });

  it('compares each segment with the baseline per target and mode; no interval without counts; failed runs skipped', () => {
    const changes = changesVsBaseline({
      targets: ['a', 'b'],
      baseline: { checkpoint: 'base', runs: [run('a', 0.25, 1, 4), run('b', 0.5, undefined, 4)] },
      segments: [
        { segment: 1, runs: [run('a', 0.75, 3, 4), run('b', 0.7, undefined, 4)] },
        { segment: 2, runs: [run('a', 1, 4, 4, false), run('b', 0.9, undefined, 4)] },
      ],
    });
    expect(changes.map((c) => [c.target, c.segment, c.method])).toEqual([
      ['a', 1, 'newcombe-wilson'],
      ['b', 1, 'none'],
      ['b', 2, 'none'],
    ]);
    expect(changes[0]!.difference).toBeCloseTo(0.5);
    expect(changes[0]!.ci95!.low).toBeLessThan(0.5);
    expect(changes[1]!.ci95).toBeUndefined();
    expect(changesVsBaseline({ targets: ['a'], segments: [{ segment: 1, runs: [run('a', 1, 4, 4)] }] })).toEqual([]);
  });
});
