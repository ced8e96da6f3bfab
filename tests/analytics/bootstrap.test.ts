import { describe, expect, it } from 'vitest';
import { bootstrapMeanInterval, DEFAULT_BOOTSTRAP, quantileSorted } from '../../src/analytics/bootstrap.js';
import { mean } from '../../src/analytics/estimators.js';
import { mulberry32 } from '../../src/util/random.js';

const DELTAS = [80, 25, -20, 0, 40, 10, -5, 60];

describe('bootstrapMeanInterval', () => {
  it('is deterministic for a seed, and the seed matters', () => {
    const first = bootstrapMeanInterval(DELTAS);
    expect(bootstrapMeanInterval([...DELTAS])).toEqual(first);
    const other = bootstrapMeanInterval(DELTAS, { ...DEFAULT_BOOTSTRAP, seed: DEFAULT_BOOTSTRAP.seed + 1 });
    expect(other).not.toEqual(first);
  });

  it('brackets the mean, inside the range of the values', () => {
    const interval = bootstrapMeanInterval(DELTAS)!;
    const average = mean(DELTAS)!;
    expect(interval.low).toBeLessThan(average);
    expect(interval.high).toBeGreaterThan(average);
    expect(interval.low).toBeGreaterThanOrEqual(Math.min(...DELTAS));
    expect(interval.high).toBeLessThanOrEqual(Math.max(...DELTAS));
  });

  it('has no interval below two tasks, and a zero-width one when every task agrees', () => {
    expect(bootstrapMeanInterval([])).toBeUndefined();
    expect(bootstrapMeanInterval([42])).toBeUndefined();
    expect(bootstrapMeanInterval([10, 10, 10])).toEqual({ low: 10, high: 10 });
  });

  it('narrows as the level drops', () => {
    const wide = bootstrapMeanInterval(DELTAS)!;
    const narrow = bootstrapMeanInterval(DELTAS, { ...DEFAULT_BOOTSTRAP, level: 0.5 })!;
    expect(narrow.high - narrow.low).toBeLessThan(wide.high - wide.low);
  });

  it('refuses settings that make no interval', () => {
    expect(() => bootstrapMeanInterval(DELTAS, { ...DEFAULT_BOOTSTRAP, resamples: 0 })).toThrow(RangeError);
    expect(() => bootstrapMeanInterval(DELTAS, { ...DEFAULT_BOOTSTRAP, level: 1 })).toThrow(RangeError);
  });

  it('covers the true mean about 95 % of the time on simulated tasks', () => {
    // 300 simulated configurations of 40 tasks, per-task Δ ~ Normal(10, 30): the percentile interval
    // should cover 10 in about 95 % of them (a little less at this N); 300 runs give a standard error of ~1.3 %.
    const random = mulberry32(7);
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    let covered = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const values = Array.from({ length: 40 }, () => 10 + 30 * normal());
      const interval = bootstrapMeanInterval(values, { ...DEFAULT_BOOTSTRAP, seed: run + 1 })!;
      if (interval.low <= 10 && 10 <= interval.high) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.89);
    expect(covered / runs).toBeLessThan(0.99);
  });
});

describe('quantileSorted', () => {
  it('interpolates as R’s type 7', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([5], 0.975)).toBe(5);
  });
});
