/**
 * Multiple-comparison corrections: the per-task p-values of one agent/model configuration are a family,
 * and with 50 tasks about 2.5 of them fall under 0.05 by chance alone. Adjusted p-values (as R's
 * `p.adjust`) are compared with the same 0.05, so a verdict reads the same whatever the correction.
 */

export type Correction = 'holm' | 'bh' | 'none';

export const CORRECTIONS: readonly Correction[] = ['holm', 'bh', 'none'];

export const DEFAULT_CORRECTION: Correction = 'holm';

/** How outputs name the correction: `Holm-adjusted p`, `BH-adjusted p`, `uncorrected p`. */
export const CORRECTION_LABELS: Record<Correction, string> = {
  holm: 'Holm',
  bh: 'BH',
  none: 'uncorrected',
};

/** Adjusted p-values in the order given; `none` returns a copy. */
export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must lie in [0, 1], got ${p}`);
  }
  if (correction === 'holm') return holmAdjust(pValues);
  if (correction === 'bh') return benjaminiHochbergAdjust(pValues);
  return [...pValues];
}

/** Indices of `pValues`, smallest p first; ties keep their input order (the adjusted values tie anyway). */
function ascendingOrder(pValues: readonly number[]): number[] {
  return pValues.map((_, index) => index).sort((x, y) => pValues[x]! - pValues[y]! || x - y);
}

/**
 * Holm's step-down method (Holm 1979): controls the family-wise error rate under any dependence.
 * With p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted p₍ᵢ₎ is max over j ≤ i of min(1, (m − j + 1) · p₍ⱼ₎).
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const adjusted = new Array<number>(m);
  let running = 0;
  ascendingOrder(pValues).forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[index]!));
    adjusted[index] = running;
  });
  return adjusted;
}

/**
 * The Benjamini–Hochberg step-up method (Benjamini & Hochberg 1995): controls the false discovery rate
 * for independent (or positively dependent) tests. The adjusted p₍ᵢ₎ is min over j ≥ i of
 * min(1, m · p₍ⱼ₎ / j).
 */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const adjusted = new Array<number>(m);
  const order = ascendingOrder(pValues);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank]!;
    running = Math.min(running, (m * pValues[index]!) / (rank + 1));
    adjusted[index] = running;
  }
  return adjusted;
}
