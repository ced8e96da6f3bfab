import { wilsonInterval } from './estimators.js';

/**
 * Sequential stopping for `eval --trials auto`: an always-valid test on the discordant pairs of two arms.
 *
 * Trial i of the with-skills arm is paired with trial i of the no-skills arm. Under H0 (equal pass rates, trials
 * independent) a discordant pair — one arm passed, the other failed — is equally likely either way, whatever the
 * common rate. The e-value is the Krichevsky–Trofimov mixture (a Beta(½,½) prior on the coin's bias) over a fair
 * coin: a nonnegative martingale under H0, so by Ville's inequality P(it ever reaches 1/α) ≤ α, however often it is
 * looked at (Ramdas, Grünwald, Vovk, Shafer, "Game-theoretic statistics and safe anytime-valid inference",
 * Statistical Science 2023). The run is truncated — at most maxTrials pairs, so at most maxTrials discordant ones —
 * so the threshold is calibrated exactly instead of Ville's 1/α: the smallest c with P_fair(max over k ≤ maxTrials
 * of E_k ≥ c) ≤ α, by dynamic programming over the fair coin's walk (a truncated, exactly calibrated repeated
 * test, as in Armitage, McPherson, Rowe 1969). Given which pairs are discordant their signs are fair coins under
 * H0, and looking at fewer prefixes only lowers the chance of crossing, so P(reject) ≤ α for any common rate and
 * any look schedule. A task also stops for futility when the chance of crossing by maxTrials, with the discordance
 * rate and the sign bias seen so far, is below FUTILITY (stochastic curtailment); that and a narrow interval only
 * remove chances to reject, so the error rate stays at most α.
 */

/** The Beta(½,½) prior of the Krichevsky–Trofimov mixture. */
const PRIOR = 0.5;
/**
 * Stop for futility below this chance of deciding by maxTrials (bench/sequential/run.ts: 0.001 keeps most of the
 * fixed design's power at half its trials).
 */
export const FUTILITY = 0.001;
export type StopReason = 'decided' | 'futile' | 'ci-width' | 'max-trials';

export interface SequentialRule {
  /** Type I error bound of the test: it rejects when the e-value reaches calibratedThreshold(α, maxTrials) ≤ 1/α. */
  alpha: number;
  /** Trials per arm at most. */
  maxTrials: number;
  /** Stop when every arm's Wilson interval (at 1 − α) is narrower than this; undefined: until decided. */
  ciWidth?: number | undefined;
}

export interface ArmTally {
  passed: number;
  /** Trials that count (errors left out). */
  valid: number;
}

export interface SequentialState {
  /** Trials run per arm so far (the highest trial index of the looks so far). */
  trials: number;
  /** Discordant pairs won by the with-skills arm (it passed, no-skills failed). */
  withWins: number;
  /** Discordant pairs won by the no-skills arm. */
  noWins: number;
  /** Per arm, for --ci-width. */
  arms: ArmTally[];
}

export interface SequentialDecision {
  stop: boolean;
  reason?: StopReason | undefined;
  /** The e-value against H0 (equal pass rates); at the calibrated threshold: decided. */
  eValue: number;
  /** With a decided verdict: which arm is better. */
  direction?: 'with-skills' | 'no-skills' | undefined;
}

/** Σ_{i<k} log(i + ½) and Σ_{i<k} log((i + 1)/2), by k: the two products of the KT e-value, grown as needed. */
const halfSums = [0];
const coinSums = [0];
function grow(n: number): void {
  for (let k = halfSums.length; k <= n; k++) {
    halfSums.push(halfSums[k - 1]! + Math.log(k - 1 + PRIOR));
    coinSums.push(coinSums[k - 1]! + Math.log((k - 1 + 2 * PRIOR) / 2));
  }
}

/** log of the KT mixture e-value for `heads` and `tails` flips of a fair coin: 2ⁿ · KT(heads, tails). */
export function logEValue(heads: number, tails: number): number {
  grow(heads + tails);
  return halfSums[heads]! + halfSums[tails]! - coinSums[heads + tails]!;
}

/**
 * P(the log e-value reaches `threshold` within `steps` more pairs), from `heads`/`tails`, when each pair is
 * discordant with probability `discordant` and a discordant pair is heads with probability `bias`.
 */
export function crossingProbability(
  start: { heads: number; tails: number },
  steps: number,
  threshold: number,
  discordant = 1,
  bias = 0.5,
  /** Return as soon as the chance is known to be at least this (the futility check needs no more). */
  enough = Number.POSITIVE_INFINITY,
): number {
  // Walks not yet across, by (heads added, tails added): a flat (steps + 1)² grid, swapped each step.
  const size = steps + 1;
  let walks = new Float64Array(size * size);
  let next = new Float64Array(size * size);
  walks[0] = 1;
  let crossed = 0;
  for (let step = 0; step < steps; step++) {
    next.fill(0);
    for (let i = 0; i <= step; i++)
      for (let j = 0; i + j <= step; j++) {
        const p = walks[i * size + j]!;
        if (p === 0) continue;
        if (discordant < 1) next[i * size + j]! += p * (1 - discordant);
        const up = p * discordant * bias;
        if (up > 0) {
          if (logEValue(start.heads + i + 1, start.tails + j) >= threshold) crossed += up;
          else next[(i + 1) * size + j]! += up;
        }
        const down = p * discordant * (1 - bias);
        if (down > 0) {
          if (logEValue(start.heads + i, start.tails + j + 1) >= threshold) crossed += down;
          else next[i * size + j + 1]! += down;
        }
      }
    [walks, next] = [next, walks];
    if (crossed >= enough) return crossed;
  }
  return crossed;
}

const thresholds = new Map<string, number>();

/** The smallest log threshold whose crossing chance under H0 within `maxPairs` discordant pairs is at most α. */
export function calibratedThreshold(alpha: number, maxPairs: number): number {
  const key = `${alpha}\u0000${maxPairs}`;
  const known = thresholds.get(key);
  if (known !== undefined) return known;
  const values = new Set<number>();
  for (let k = 1; k <= maxPairs; k++) for (let h = 0; h <= k; h++) values.add(logEValue(h, k - h));
  const sorted = [...values].filter((v) => v > 0).sort((x, y) => x - y);
  // Crossing is monotone in the threshold: the first value that keeps the chance ≤ α (Ville's 1/α at worst).
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (crossingProbability({ heads: 0, tails: 0 }, maxPairs, sorted[mid]!) <= alpha) high = mid;
    else low = mid + 1;
  }
  const threshold = Math.min(Math.log(1 / alpha), sorted[low] ?? Math.log(1 / alpha));
  thresholds.set(key, threshold);
  return threshold;
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** The chance of deciding by maxTrials with the discordance rate and sign bias seen so far (priors ½). */
function chanceToDecide(state: SequentialState, remaining: number, threshold: number): number {
  const { withWins: heads, noWins: tails, trials } = state;
  const discordant = (heads + tails + 1) / (trials + 2);
  const lean = (heads + PRIOR) / (heads + tails + 2 * PRIOR);
  return crossingProbability({ heads, tails }, remaining, threshold, discordant, Math.max(lean, 1 - lean), FUTILITY);
}

function narrowEnough(arms: readonly ArmTally[], width: number, alpha: number): boolean {
  const z = normalQuantile(1 - alpha / 2);
  return arms.every((arm) => {
    const interval = wilsonInterval(arm.passed, arm.valid, z);
    return interval !== undefined && interval.high - interval.low < width;
  });
}

/**
 * Whether a task × agent stops after this look, and why: `decided` (the e-value reached the calibrated threshold),
 * `futile` (the chance the trials left get it there is below FUTILITY), `ci-width` (every arm's interval is narrower than
 * --ci-width; then the interval is the target, not the verdict), or `max-trials`.
 */
export function sequentialDecision(state: SequentialState, rule: SequentialRule): SequentialDecision {
  const logE = logEValue(state.withWins, state.noWins);
  const eValue = Math.exp(logE);
  const threshold = calibratedThreshold(rule.alpha, rule.maxTrials);
  const direction = state.withWins >= state.noWins ? 'with-skills' : 'no-skills';
  if (rule.ciWidth !== undefined) {
    if (narrowEnough(state.arms, rule.ciWidth, rule.alpha)) return { stop: true, reason: 'ci-width', eValue };
  } else {
    if (logE >= threshold) return { stop: true, reason: 'decided', eValue, direction };
    const remaining = Math.max(0, rule.maxTrials - state.trials);
    if (remaining > 0 && chanceToDecide(state, remaining, threshold) < FUTILITY)
      return { stop: true, reason: 'futile', eValue };
  }
  if (state.trials >= rule.maxTrials) return { stop: true, reason: 'max-trials', eValue };
  return { stop: false, eValue };
}

/** Outcomes of one task × agent's trials: trial index → passed (true), failed (false); errors are absent. */
export interface ArmOutcomes {
  withSkills?: ReadonlyMap<number, boolean> | undefined;
  noSkills?: ReadonlyMap<number, boolean> | undefined;
}

function tally(outcomes: ReadonlyMap<number, boolean>, upTo: number): ArmTally {
  let passed = 0;
  let valid = 0;
  for (const [index, pass] of outcomes) {
    if (index > upTo) continue;
    valid += 1;
    if (pass) passed += 1;
  }
  return { passed, valid };
}

/** The state after `trials` trials per arm: pairs are the trial indices both arms have a valid outcome for. */
export function sequentialState(outcomes: ArmOutcomes, trials: number): SequentialState {
  let withWins = 0;
  let noWins = 0;
  if (outcomes.withSkills && outcomes.noSkills)
    for (const [index, pass] of outcomes.withSkills) {
      const other = outcomes.noSkills.get(index);
      if (index > trials || other === undefined || other === pass) continue;
      if (pass) withWins += 1;
      else noWins += 1;
    }
  const arms = [outcomes.withSkills, outcomes.noSkills].flatMap((o) => (o ? [tally(o, trials)] : []));
  return { trials, withWins, noWins, arms };
}
