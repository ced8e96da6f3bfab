import { describe, expect, it } from 'vitest';
import { adjustPValues, benjaminiHochbergAdjust, holmAdjust } from '../../src/analytics/multiplicity.js';

/** Benjamini & Hochberg (1995), section 4: the 15 p-values of their worked example. */
const BH_1995 = [
  0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1,
];

function closeAll(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  for (const [index, value] of actual.entries()) expect(value).toBeCloseTo(expected[index]!, 12);
}

describe('holmAdjust', () => {
  it('steps down: sorted p times m, m−1, …, made monotone, in the input order', () => {
    // Sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005, 3·0.01, 2·0.03, max(0.06, 1·0.04).
    closeAll(holmAdjust([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02]);
    closeAll(holmAdjust([0.01, 0.02, 0.03, 0.04, 0.05]), [0.05, 0.08, 0.09, 0.09, 0.09]);
  });

  it('rejects 3 of the 15 hypotheses of Benjamini & Hochberg’s example at 0.05 (as Bonferroni-type methods do there)', () => {
    const adjusted = holmAdjust(BH_1995);
    expect(adjusted.filter((p) => p < 0.05)).toHaveLength(3);
    expect(adjusted[2]).toBeCloseTo(13 * 0.0019, 12);
    expect(adjusted[3]).toBeCloseTo(12 * 0.0095, 12);
  });

  it('gives tied p-values the same adjusted value', () => {
    closeAll(holmAdjust([0.02, 0.02, 0.02]), [0.06, 0.06, 0.06]);
    closeAll(holmAdjust([0.04, 0.01, 0.2, 0.04]), [0.12, 0.04, 0.2, 0.12]);
  });

  it('caps at 1, leaves a single test alone and an empty family empty', () => {
    closeAll(holmAdjust([0.5, 0.6]), [1, 1]);
    expect(holmAdjust([0.03])).toEqual([0.03]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe('benjaminiHochbergAdjust', () => {
  it('steps up: m·p(i)/i, made monotone from the largest down', () => {
    // Sorted 0.005, 0.01, 0.03, 0.04 → min over j ≥ i of 4·p(j)/j: 0.02, 0.02, 0.04, 0.04.
    closeAll(benjaminiHochbergAdjust([0.01, 0.04, 0.03, 0.005]), [0.02, 0.04, 0.04, 0.02]);
    closeAll(benjaminiHochbergAdjust([0.01, 0.02, 0.03, 0.04, 0.05]), [0.05, 0.05, 0.05, 0.05, 0.05]);
  });

  it('rejects the 4 hypotheses Benjamini & Hochberg (1995) reject in their example at q = 0.05', () => {
    const adjusted = benjaminiHochbergAdjust(BH_1995);
    expect(adjusted.filter((p) => p < 0.05)).toHaveLength(4);
    expect(adjusted[3]).toBeCloseTo((15 * 0.0095) / 4, 12);
    // The fifth: min(15·0.0201/5, 15·0.0298/7, …) = 0.0603.
    expect(adjusted[4]).toBeCloseTo(0.0603, 12);
    expect(adjusted[14]).toBe(1);
  });

  it('gives tied p-values the same adjusted value', () => {
    closeAll(benjaminiHochbergAdjust([0.02, 0.02, 0.02]), [0.02, 0.02, 0.02]);
    closeAll(benjaminiHochbergAdjust([0.04, 0.01, 0.2, 0.04]), [0.16 / 3, 0.04, 0.2, 0.16 / 3]);
  });

  it('never exceeds 1, leaves a single test alone and an empty family empty', () => {
    closeAll(benjaminiHochbergAdjust([0.5, 0.6]), [0.6, 0.6]);
    expect(benjaminiHochbergAdjust([0.03])).toEqual([0.03]);
    expect(benjaminiHochbergAdjust([])).toEqual([]);
  });
});

describe('adjustPValues', () => {
  it('dispatches on the method; none copies', () => {
    const p = [0.01, 0.04];
    expect(adjustPValues(p, 'holm')).toEqual(holmAdjust(p));
    expect(adjustPValues(p, 'bh')).toEqual(benjaminiHochbergAdjust(p));
    const copy = adjustPValues(p, 'none');
    expect(copy).toEqual(p);
    expect(copy).not.toBe(p);
  });

  it('is never smaller than the raw p, and BH never above Holm', () => {
    const holm = adjustPValues(BH_1995, 'holm');
    const bh = adjustPValues(BH_1995, 'bh');
    BH_1995.forEach((p, index) => {
      expect(bh[index]).toBeGreaterThanOrEqual(p);
      expect(holm[index]).toBeGreaterThanOrEqual(bh[index]! - 1e-15);
    });
  });

  it('refuses a value that is no p-value', () => {
    expect(() => adjustPValues([0.2, Number.NaN], 'holm')).toThrow(RangeError);
    expect(() => adjustPValues([1.5], 'bh')).toThrow(/\[0, 1\], got 1.5/);
  });
});
