/**
 * Pure estimators. Every function returns `undefined` where the quantity is not defined (no trials,
 * a 100 % baseline, k > n) instead of a number that would look like a measurement.
 */

/** The 97.5th percentile of the standard normal: the z of a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/** The rounded z the SkillsBench leaderboard uses for its task-level interval. */
export const TASK_CI_Z = 1.96;

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927). Unlike the normal approximation it
 * stays inside [0, 1] and is honest at 0/n and n/n: 5/5 gives [0.566, 1].
 */
export function wilsonInterval(successes: number, trials: number, z: number = Z95): Interval | undefined {
  assertCounts(successes, trials);
  if (trials === 0) return undefined;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // Clamp away floating-point dust so that 0/n starts at exactly 0 and n/n ends at exactly 1.
  return {
    low: successes === 0 ? 0 : Math.max(0, center - halfWidth),
    high: successes === trials ? 1 : Math.min(1, center + halfWidth),
  };
}

/** ln(n!) from a table grown on demand: exact sums of logs, fast for the counts we see (≤ a few 10⁵). */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[n]!;
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * Two-sided Fisher exact test on the 2×2 table [[a, b], [c, d]] (rows: groups, columns: pass/fail).
 * The p-value sums the hypergeometric probabilities of every table with the same margins that is no
 * more likely than the observed one (the usual "minimum likelihood" definition, as R's fisher.test).
 */
export function fisherExactTwoSided(a: number, b: number, c: number, d: number): number {
  for (const count of [a, b, c, d]) {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`Fisher's test needs non-negative integer counts, got ${count}`);
  }
  const row1 = a + b;
  const row2 = c + d;
  const col1 = a + c;
  const total = row1 + row2;
  if (row1 === 0 || row2 === 0 || col1 === 0 || col1 === total) return 1;
  const logDenominator = logChoose(total, col1);
  const logProbability = (x: number): number => logChoose(row1, x) + logChoose(row2, col1 - x) - logDenominator;
  const observed = logProbability(a);
  // Relative tolerance as R uses, so that ties in exact arithmetic stay ties in floating point.
  const threshold = observed + Math.log1p(1e-7);
  const low = Math.max(0, col1 - row2);
  const high = Math.min(row1, col1);
  let p = 0;
  for (let x = low; x <= high; x++) {
    const logP = logProbability(x);
    if (logP <= threshold) p += Math.exp(logP);
  }
  return Math.min(1, p);
}

/**
 * Normalized gain (SkillsBench): the share of the headroom above the baseline that skills closed.
 * Undefined when the baseline is 100 % (no headroom) or either rate is missing; may be negative.
 */
export function normalizedGain(
  passRateWith: number | undefined,
  passRateWithout: number | undefined,
): number | undefined {
  if (passRateWith === undefined || passRateWithout === undefined) return undefined;
  if (passRateWithout >= 1) return undefined;
  return (passRateWith - passRateWithout) / (1 - passRateWithout);
}

export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Sample standard deviation (n − 1 in the denominator); undefined below two values. */
export function sampleStandardDeviation(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const average = mean(values)!;
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

export interface TaskLevelEstimate {
  /** Macro mean over tasks. */
  mean: number;
  tasks: number;
  /** 1.96 · sd(per-task means) / √N; undefined with fewer than two tasks. */
  halfWidth: number | undefined;
  interval: Interval | undefined;
}

/**
 * The SkillsBench leaderboard's task-level 95 % interval: tasks are the unit of sampling, so the
 * spread is that of the per-task means, not of the pooled trials.
 */
export function taskLevelInterval(perTaskMeans: readonly number[]): TaskLevelEstimate | undefined {
  const average = mean(perTaskMeans);
  if (average === undefined) return undefined;
  const sd = sampleStandardDeviation(perTaskMeans);
  const halfWidth = sd === undefined ? undefined : (TASK_CI_Z * sd) / Math.sqrt(perTaskMeans.length);
  return {
    mean: average,
    tasks: perTaskMeans.length,
    halfWidth,
    interval: halfWidth === undefined ? undefined : { low: average - halfWidth, high: average + halfWidth },
  };
}

/**
 * Unbiased pass@k (Chen et al. 2021): the probability that at least one of k trials drawn without
 * replacement from the n observed passes, 1 − C(n−c, k) / C(n, k), as a stable running product.
 */
export function passAtK(trials: number, passes: number, k: number): number | undefined {
  assertCounts(passes, trials);
  assertK(k);
  if (k > trials) return undefined;
  if (trials - passes < k) return 1;
  let allFail = 1;
  for (let i = trials - passes + 1; i <= trials; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/**
 * Unbiased pass^k (τ-bench, Yao et al. 2024): the probability that all of k trials drawn without
 * replacement pass, C(c, k) / C(n, k) — a measure of reliability rather than of reach.
 */
export function passHatK(trials: number, passes: number, k: number): number | undefined {
  assertCounts(passes, trials);
  assertK(k);
  if (k > trials) return undefined;
  if (passes < k) return 0;
  let allPass = 1;
  for (let i = 0; i < k; i++) allPass *= (passes - i) / (trials - i);
  return allPass;
}

export type SignificanceVerdict = 'significant' | 'inconclusive' | 'no data';

export interface Significance {
  verdict: SignificanceVerdict;
  /** Two-sided Fisher exact p-value; absent when an arm has no data. */
  pValue?: number | undefined;
  /** The p-value corrected across the configuration's tasks (multiplicity.ts); the verdict reads this one. */
  adjustedPValue?: number | undefined;
  /** Only for significant results. */
  direction?: 'skills help' | 'skills hurt' | undefined;
}

export const SIGNIFICANCE_LEVEL = 0.05;

export interface ArmCounts {
  trials: number;
  passes: number;
}

/** The raw Fisher p-value of one task's with/without table; undefined when an arm is missing or empty. */
export function armsPValue(withSkills: ArmCounts | undefined, noSkills: ArmCounts | undefined): number | undefined {
  if (!withSkills || !noSkills || withSkills.trials === 0 || noSkills.trials === 0) return undefined;
  return fisherExactTwoSided(
    withSkills.passes,
    withSkills.trials - withSkills.passes,
    noSkills.passes,
    noSkills.trials - noSkills.passes,
  );
}

/**
 * The verdict on the with/without difference of one task; `no data` when an arm is missing or empty.
 * Given an `adjustedPValue` (the task's p corrected for the other tasks tested), the verdict is on it.
 */
export function compareArms(
  withSkills: ArmCounts | undefined,
  noSkills: ArmCounts | undefined,
  adjustedPValue?: number,
): Significance {
  const pValue = armsPValue(withSkills, noSkills);
  if (pValue === undefined || !withSkills || !noSkills) return { verdict: 'no data' };
  const adjusted = adjustedPValue === undefined ? {} : { adjustedPValue };
  if ((adjustedPValue ?? pValue) >= SIGNIFICANCE_LEVEL) return { verdict: 'inconclusive', pValue, ...adjusted };
  const helps = withSkills.passes / withSkills.trials > noSkills.passes / noSkills.trials;
  return { verdict: 'significant', pValue, ...adjusted, direction: helps ? 'skills help' : 'skills hurt' };
}

function assertCounts(successes: number, trials: number): void {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || trials < 0 || successes > trials) {
    throw new RangeError(`invalid counts: ${successes} successes of ${trials} trials`);
  }
}

function assertK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
}

/** The median of values sorted ascending; undefined when there are none. */
export function median(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Δ bought per unit of extra spend: Δ (pp) ÷ (mean spend per with-skills trial − mean per no-skills trial) × unit.
 * Undefined unless skills cost more: a Δ at no extra cost (or a saving) has no price to divide by.
 */
export function deltaPerExtraSpend(
  deltaPp: number | undefined,
  withSkills: number | undefined,
  noSkills: number | undefined,
  unit = 1,
): number | undefined {
  if (deltaPp === undefined || withSkills === undefined || noSkills === undefined) return undefined;
  const extra = withSkills - noSkills;
  return extra > 0 ? (deltaPp / extra) * unit : undefined;
}

/** A task's Δ is within the noise floor when its magnitude is below what A/A runs (the same arm twice) show. */
export function withinNoiseFloor(deltaPp: number | undefined, noiseFloorPp: number | undefined): boolean | undefined {
  if (deltaPp === undefined || noiseFloorPp === undefined) return undefined;
  return Math.abs(deltaPp) < noiseFloorPp;
}
