import { describe, expect, it } from 'vitest';
import {
  compareArms,
  deltaPerExtraSpend,
  fisherExactTwoSided,
  median,
  normalizedGain,
  passAtK,
  passHatK,
  sampleStandardDeviation,
  taskLevelInterval,
  wilsonInterval,
  withinNoiseFloor,
} from '../../src/analytics/estimators.js';

// Every expected value below was computed by hand from the formula (working in the comment).

describe('wilsonInterval', () => {
  it('1/5: center (0.2 + z²/10)/(1 + z²/5) = 0.33035, half 0.29412 → [0.0362, 0.6245]', () => {
    const interval = wilsonInterval(1, 5)!;
    expect(interval.low).toBeCloseTo(0.036224, 5);
    expect(interval.high).toBeCloseTo(0.624466, 5);
  });

  it('5/5 is not "100 %": [0.5655, 1]', () => {
    const interval = wilsonInterval(5, 5)!;
    expect(interval.low).toBeCloseTo(0.565522, 5);
    expect(interval.high).toBe(1);
  });

  it('0/5 starts at exactly 0 and mirrors 5/5', () => {
    const interval = wilsonInterval(0, 5)!;
    expect(interval.low).toBe(0);
    expect(interval.high).toBeCloseTo(1 - 0.565522, 5);
  });

  it('2/4 is symmetric around 0.5: [0.1500, 0.8500]', () => {
    const interval = wilsonInterval(2, 4)!;
    expect(interval.low).toBeCloseTo(0.150036, 5);
    expect(interval.high).toBeCloseTo(0.849964, 5);
  });

  it('has no interval without trials and refuses impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeUndefined();
    expect(() => wilsonInterval(6, 5)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 5)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 5)).toThrow(RangeError);
  });
});

describe('fisherExactTwoSided', () => {
  it('5/5 vs 1/5: tables as extreme as observed are x=5 and x=1, (6 + 6)/C(10,5) = 12/252', () => {
    expect(fisherExactTwoSided(5, 0, 1, 4)).toBeCloseTo(12 / 252, 12);
  });

  it('the lady tasting tea, [[3,1],[1,3]]: (1 + 16 + 16 + 1)/70 = 0.4857', () => {
    expect(fisherExactTwoSided(3, 1, 1, 3)).toBeCloseTo(34 / 70, 12);
  });

  it('3/4 vs 2/4: the observed table is the most likely one, p = 1', () => {
    expect(fisherExactTwoSided(3, 1, 2, 2)).toBeCloseTo(1, 12);
  });

  it('10/10 vs 0/10: 2 / C(20,10)', () => {
    expect(fisherExactTwoSided(10, 0, 0, 10)).toBeCloseTo(2 / 184756, 15);
  });

  it('is symmetric in the rows and in the columns', () => {
    expect(fisherExactTwoSided(1, 4, 5, 0)).toBeCloseTo(fisherExactTwoSided(5, 0, 1, 4), 12);
    expect(fisherExactTwoSided(0, 5, 4, 1)).toBeCloseTo(fisherExactTwoSided(5, 0, 1, 4), 12);
  });

  it('is 1 for a degenerate table and refuses non-counts', () => {
    expect(fisherExactTwoSided(0, 0, 3, 2)).toBe(1);
    expect(fisherExactTwoSided(3, 0, 2, 0)).toBe(1);
    expect(() => fisherExactTwoSided(1.5, 0, 1, 1)).toThrow(RangeError);
  });

  it('stays accurate for large counts (500 vs 500 trials)', () => {
    const p = fisherExactTwoSided(300, 200, 250, 250);
    // Pearson χ² for this table is 0.01/(0.55·0.45·(2/500)) = 10.1 (1 df), p ≈ 0.0015; Fisher is close to it at this size.
    expect(p).toBeGreaterThan(0.001);
    expect(p).toBeLessThan(0.003);
  });
});

describe('normalizedGain', () => {
  it('gives the seed README rows: 20 % → 100 % is 1.00, 50 % → 75 % is 0.50', () => {
    expect(normalizedGain(1, 0.2)).toBeCloseTo(1, 12);
    expect(normalizedGain(0.75, 0.5)).toBeCloseTo(0.5, 12);
  });

  it("gives SkillsBench's published aggregates: 31.3 % → 48.7 % is 25.3 %, 22.0 % → 45.3 % is 29.9 %", () => {
    // (0.487 − 0.313)/(1 − 0.313) = 0.174/0.687; (0.453 − 0.220)/0.780 = 0.233/0.780
    expect(normalizedGain(0.487, 0.313)).toBeCloseTo(0.253275, 5);
    expect(normalizedGain(0.453, 0.22)).toBeCloseTo(0.298718, 5);
  });

  it('is negative when skills hurt, and may be below −1', () => {
    expect(normalizedGain(0.25, 0.5)).toBeCloseTo(-0.5, 12);
    expect(normalizedGain(0, 0.9)).toBeCloseTo(-9, 12);
  });

  it('is undefined at a 100 % baseline (no headroom) and when a rate is missing', () => {
    expect(normalizedGain(1, 1)).toBeUndefined();
    expect(normalizedGain(0.5, 1)).toBeUndefined();
    expect(normalizedGain(undefined, 0.5)).toBeUndefined();
    expect(normalizedGain(0.5, undefined)).toBeUndefined();
  });

  it('is 0 with no change from 0 %', () => {
    expect(normalizedGain(0, 0)).toBe(0);
  });
});

describe('taskLevelInterval', () => {
  it('[0.2, 1.0]: mean 0.6, sd 0.5657, half-width 1.96 · 0.5657/√2 = 0.784', () => {
    const estimate = taskLevelInterval([0.2, 1])!;
    expect(estimate.mean).toBeCloseTo(0.6, 12);
    expect(estimate.halfWidth).toBeCloseTo(0.784, 12);
    expect(estimate.interval!.low).toBeCloseTo(-0.184, 12);
    expect(estimate.interval!.high).toBeCloseTo(1.384, 12);
  });

  it('[0.5, 0.75, 1.0]: sd 0.25, half-width 1.96 · 0.25/√3 = 0.28290', () => {
    const estimate = taskLevelInterval([0.5, 0.75, 1])!;
    expect(estimate.mean).toBeCloseTo(0.75, 12);
    expect(estimate.halfWidth).toBeCloseTo(0.282902, 6);
    expect(estimate.tasks).toBe(3);
  });

  it('has a mean but no interval for one task, and nothing for none', () => {
    expect(taskLevelInterval([0.4])).toEqual({ mean: 0.4, tasks: 1, halfWidth: undefined, interval: undefined });
    expect(taskLevelInterval([])).toBeUndefined();
  });

  it('uses the sample standard deviation (n − 1)', () => {
    expect(sampleStandardDeviation([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });
});

describe('passAtK (Chen et al. 2021)', () => {
  it('k = 1 is the pass rate', () => {
    expect(passAtK(5, 1, 1)).toBeCloseTo(0.2, 12);
  });

  it('n=5, c=1, k=3: 1 − C(4,3)/C(5,3) = 1 − 4/10', () => {
    expect(passAtK(5, 1, 3)).toBeCloseTo(0.6, 12);
  });

  it('n=5, c=2, k=3: 1 − C(3,3)/C(5,3) = 0.9', () => {
    expect(passAtK(5, 2, 3)).toBeCloseTo(0.9, 12);
  });

  it('n=10, c=3, k=5: 1 − C(7,5)/C(10,5) = 1 − 21/252', () => {
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12);
  });

  it('is 1 when fewer than k trials failed, 0 when none passed, undefined when k > n', () => {
    expect(passAtK(5, 3, 3)).toBe(1);
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passAtK(3, 1, 5)).toBeUndefined();
    expect(() => passAtK(5, 1, 0)).toThrow(RangeError);
  });
});

describe('passHatK (τ-bench)', () => {
  it('n=5, c=3, k=2: C(3,2)/C(5,2) = 3/10', () => {
    expect(passHatK(5, 3, 2)).toBeCloseTo(0.3, 12);
  });

  it('n=10, c=7, k=3: C(7,3)/C(10,3) = 35/120', () => {
    expect(passHatK(10, 7, 3)).toBeCloseTo(35 / 120, 12);
  });

  it('k = 1 is the pass rate; all passing gives 1; fewer passes than k gives 0; k > n is undefined', () => {
    expect(passHatK(4, 3, 1)).toBeCloseTo(0.75, 12);
    expect(passHatK(5, 5, 5)).toBe(1);
    expect(passHatK(5, 2, 3)).toBe(0);
    expect(passHatK(2, 2, 3)).toBeUndefined();
  });
});

describe('compareArms', () => {
  it('1/5 → 5/5 is significant at 0.05 (p = 0.0476), skills help', () => {
    const result = compareArms({ trials: 5, passes: 5 }, { trials: 5, passes: 1 });
    expect(result.verdict).toBe('significant');
    expect(result.direction).toBe('skills help');
    expect(result.pValue).toBeCloseTo(12 / 252, 12);
  });

  it('2/4 → 3/4 is inconclusive', () => {
    expect(compareArms({ trials: 4, passes: 3 }, { trials: 4, passes: 2 })).toEqual({
      verdict: 'inconclusive',
      pValue: expect.closeTo(1, 12),
    });
  });

  it('decides on the adjusted p when given one, and keeps the raw p beside it', () => {
    expect(compareArms({ trials: 5, passes: 5 }, { trials: 5, passes: 1 }, 24 / 252)).toEqual({
      verdict: 'inconclusive',
      pValue: expect.closeTo(12 / 252, 12),
      adjustedPValue: 24 / 252,
    });
    expect(compareArms({ trials: 5, passes: 5 }, { trials: 5, passes: 1 }, 0.01).direction).toBe('skills help');
  });

  it('names the direction when skills hurt', () => {
    expect(compareArms({ trials: 10, passes: 0 }, { trials: 10, passes: 10 }).direction).toBe('skills hurt');
  });

  it('says "no data" when an arm is missing or empty', () => {
    expect(compareArms(undefined, { trials: 5, passes: 1 })).toEqual({ verdict: 'no data' });
    expect(compareArms({ trials: 5, passes: 1 }, { trials: 0, passes: 0 })).toEqual({ verdict: 'no data' });
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeUndefined();
    expect(median([1, 5, 9])).toBe(5);
    expect(median([1, 2, 4, 10])).toBe(3);
  });
});

describe('deltaPerExtraSpend', () => {
  it('divides Δ by the extra spend per trial, scaled to the unit', () => {
    expect(deltaPerExtraSpend(20, 0.15, 0.05)).toBeCloseTo(200, 9);
    expect(deltaPerExtraSpend(10, 3000, 1000, 1000)).toBeCloseTo(5, 9);
  });

  it('is undefined when skills cost nothing more, or a figure is missing', () => {
    expect(deltaPerExtraSpend(20, 0.05, 0.05)).toBeUndefined();
    expect(deltaPerExtraSpend(20, 0.04, 0.05)).toBeUndefined();
    expect(deltaPerExtraSpend(undefined, 0.1, 0.05)).toBeUndefined();
    expect(deltaPerExtraSpend(20, undefined, 0.05)).toBeUndefined();
  });
});

describe('withinNoiseFloor', () => {
  it('compares |Δ| with the floor, strictly', () => {
    expect(withinNoiseFloor(-4, 5)).toBe(true);
    expect(withinNoiseFloor(5, 5)).toBe(false);
    expect(withinNoiseFloor(4, undefined)).toBeUndefined();
    expect(withinNoiseFloor(undefined, 5)).toBeUndefined();
  });
});
