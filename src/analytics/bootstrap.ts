import { mulberry32 } from '../util/random.js';
import type { Interval } from './estimators.js';

/**
 * The cluster (task-level) bootstrap of a macro mean. Trials within a task are correlated — the same
 * prompt, the same verifier — so the task is the unit of resampling: each resample draws N tasks with
 * replacement from the N observed, keeps each drawn task's value whole, and takes the mean. The
 * percentile interval is read off the resampled means. The cost is resamples × tasks, never trials.
 */

export interface BootstrapSettings {
  /** Resamples drawn (default 2,000). */
  resamples: number;
  /** Seed of the mulberry32 generator, so the same tasks always give the same interval. */
  seed: number;
  /** Two-sided coverage, e.g. 0.95. */
  level: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapSettings = { resamples: 2000, seed: 20_211, level: 0.95 };

/**
 * Percentile bootstrap interval of the mean of `values` (one value per cluster). Undefined below two
 * clusters: every resample of one task is that task, an interval of width 0 that would look like certainty.
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  settings: BootstrapSettings = DEFAULT_BOOTSTRAP,
): Interval | undefined {
  const { resamples, seed, level } = settings;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must lie in (0, 1), got ${level}`);
  const n = values.length;
  if (n < 2) return undefined;
  const random = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[b] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return { low: quantileSorted(means, tail), high: quantileSorted(means, 1 - tail) };
}

/** R's default quantile (type 7): linear interpolation between the order statistics around (n − 1)·q. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}
