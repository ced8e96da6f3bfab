import { describe, expect, it } from 'vitest';
import {
  calibratedThreshold,
  crossingProbability,
  logEValue,
  normalQuantile,
  type SequentialRule,
  sequentialDecision,
  sequentialState,
} from '../../src/analytics/sequential.js';
import { SEQUENTIAL_ROUND } from '../../src/jobs/sequential.js';
import { mulberry32 } from '../../src/util/random.js';

/** One task run as `eval --trials auto` runs it: rounds per arm until the rule stops it. */
function simulate(pWith: number, pNo: number, rule: SequentialRule, random: () => number) {
  const withSkills = new Map<number, boolean>();
  const noSkills = new Map<number, boolean>();
  for (let trials = SEQUENTIAL_ROUND; ; trials += SEQUENTIAL_ROUND) {
    for (let i = trials - SEQUENTIAL_ROUND + 1; i <= trials; i++) {
      withSkills.set(i, random() < pWith);
      noSkills.set(i, random() < pNo);
    }
    const decision = sequentialDecision(sequentialState({ withSkills, noSkills }, trials), rule);
    if (decision.stop) return { trials, ...decision };
    if (trials > rule.maxTrials) throw new Error('ran past the maximum');
  }
}

describe('calibratedThreshold', () => {
  it('is the smallest threshold a fair coin crosses with chance ≤ α within the most pairs; never above 1/α', () => {
    for (const [alpha, pairs] of [
      [0.05, 20],
      [0.05, 40],
      [0.1, 10],
    ] as const) {
      const threshold = calibratedThreshold(alpha, pairs);
      expect(threshold).toBeLessThanOrEqual(Math.log(1 / alpha));
      expect(crossingProbability({ heads: 0, tails: 0 }, pairs, threshold)).toBeLessThanOrEqual(alpha);
      // Lower, the fair coin crosses too often.
      expect(crossingProbability({ heads: 0, tails: 0 }, pairs, threshold - 0.3)).toBeGreaterThan(alpha);
    }
    expect(Math.exp(calibratedThreshold(0.05, 20))).toBeCloseTo(9.5, 1);
  });
});

describe('sequentialDecision', () => {
  const rule = { alpha: 0.05, maxTrials: 20 };

  it('keeps the error rate under H0 (equal pass rates), at any common rate', () => {
    const random = mulberry32(7);
    for (const p of [0.1, 0.5, 0.8]) {
      let rejected = 0;
      const runs = 3000;
      for (let i = 0; i < runs; i++) if (simulate(p, p, rule, random).reason === 'decided') rejected += 1;
      // α plus three binomial standard errors
      expect(rejected / runs).toBeLessThan(0.05 + 3 * Math.sqrt((0.05 * 0.95) / runs));
    }
  });

  it('keeps the error rate with a lax α and a long maximum too (Ville: at most α however long it looks)', () => {
    const random = mulberry32(11);
    let rejected = 0;
    const runs = 2000;
    for (let i = 0; i < runs; i++)
      if (simulate(0.5, 0.5, { alpha: 0.2, maxTrials: 60 }, random).reason === 'decided') rejected += 1;
    expect(rejected / runs).toBeLessThan(0.2 + 3 * Math.sqrt((0.2 * 0.8) / runs));
  });

  it('stops early on a strong effect, with the right direction', () => {
    const random = mulberry32(3);
    const always = simulate(1, 0, rule, random);
    // Six straight wins reach the calibrated threshold (≈ 9.5 for 20 pairs at α = 0.05; Ville's would need 20).
    expect(always).toMatchObject({ stop: true, reason: 'decided', direction: 'with-skills', trials: 6 });
    const hurts = simulate(0.05, 0.95, rule, random);
    expect(hurts).toMatchObject({ reason: 'decided', direction: 'no-skills' });
    expect(hurts.trials).toBeLessThan(20);
  });

  it('never runs past the maximum, and stops for futility when nothing left could decide it', () => {
    const random = mulberry32(5);
    for (let i = 0; i < 500; i++) expect(simulate(random(), random(), rule, random).trials).toBeLessThanOrEqual(20);
    // Both arms always pass: no discordant pair, ever; after 6 the chance of deciding is below FUTILITY.
    const same = simulate(1, 1, rule, random);
    expect(same).toMatchObject({ reason: 'futile', trials: 6 });
    expect(simulate(1, 1, { alpha: 0.05, maxTrials: 5 }, random)).toMatchObject({ reason: 'futile', trials: 2 });
  });

  it('says max-trials when the verdict could still change at the last look', () => {
    const state = { trials: 20, withWins: 5, noWins: 1, arms: [] };
    expect(sequentialDecision(state, rule)).toMatchObject({ stop: true, reason: 'max-trials' });
    expect(sequentialDecision({ ...state, trials: 10 }, rule)).toMatchObject({ stop: false });
  });

  it('with --ci-width, stops when every arm is known to within the width', () => {
    const wide = { trials: 10, withWins: 0, noWins: 0, arms: [{ passed: 10, valid: 10 }] };
    expect(sequentialDecision(wide, { ...rule, ciWidth: 0.2 })).toMatchObject({ stop: false });
    const narrow = { ...wide, trials: 18, arms: [{ passed: 18, valid: 18 }] };
    expect(sequentialDecision(narrow, { ...rule, ciWidth: 0.2 })).toMatchObject({ stop: true, reason: 'ci-width' });
  });

  it('computes the KT e-value and the normal quantile', () => {
    // 7 wins in a row: 2^7 · (½·¾·⅚·⅞·⁹⁄₁₀·¹¹⁄₁₂·¹³⁄₁₄) ≈ 26.81
    expect(Math.exp(logEValue(7, 0))).toBeCloseTo(26.81, 1);
    expect(Math.exp(logEValue(1, 1))).toBeCloseTo(0.5, 10);
    expect(Math.exp(logEValue(6, 0))).toBeLessThan(20);
    expect(logEValue(0, 0)).toBe(0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 5);
  });

  it('pairs trial i of each arm and leaves out errors (absent outcomes)', () => {
    const withSkills = new Map([
      [1, true],
      [2, true],
      [3, false],
    ]);
    const noSkills = new Map([
      [1, false],
      [3, true],
    ]);
    expect(sequentialState({ withSkills, noSkills }, 3)).toEqual({
      trials: 3,
      withWins: 1,
      noWins: 1,
      arms: [
        { passed: 2, valid: 3 },
        { passed: 1, valid: 2 },
      ],
    });
  });
});
