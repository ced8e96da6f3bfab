import { wilsonInterval } from './estimators.js';

/**
 * Sequential stopping for `eval --trials auto`: an always-valid test on the discordant pairs of two arms.
 *
 * Trial i of the with-skills arm is paired with trial i of the no-skills arm. Under H0 (equal pass rates, trials
 * independent) a discordant pair — one arm passed, the other failed — is equally likely either way, whatever the
 * common rate. The e-value is the Krichevsky–Trofimov mixture (a Beta(½,½) prior on the coin's bias) over a fair
 * coin: a nonnegative martingale under H0, so by Ville's inequality P(it ever reaches 1/α) ≤ α, however often it is
 * looked at and whenever the looking stops (Ramdas, Grünwald, Vovk, Shafer, "Game-theoretic statistics and safe
 * anytime-valid inference", Statistical Science 2023). Stopping early for futility or a narrow interval only removes
 * chances to reject, so the error rate stays at most α.
 */

/** The Beta(½,½) prior of the Krichevsky–Trofimov mixture. */
const PRIOR = 0.5;
export type StopReason = 'decided' | 'futile' | 'ci-width' | 'max-trials';

export interface SequentialRule {
  /** Type I error bound of the test: it rejects when the e-value reaches 1/α. */
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
  /** The e-value against H0 (equal pass rates); ≥ 1/α: decided. */
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

/** The largest e-value any outcome of `remaining` more pairs could reach. */
function bestReachable(heads: number, tails: number, remaining: number): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= remaining; i++)
    for (let j = 0; i + j <= remaining; j++) best = Math.max(best, logEValue(heads + i, tails + j));
  return best;
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

function narrowEnough(arms: readonly ArmTally[], width: number, alpha: number): boolean {
  const z = normalQuantile(1 - alpha / 2);
  return arms.every((arm) => {
    const interval = wilsonInterval(arm.passed, arm.valid, z);
    return interval !== undefined && interval.high - interval.low < width;
  });
}

/**
 * Whether a task × agent stops after this look, and why: `decided` (the e-value reached 1/α: the arms differ),
 * `futile` (no outcome of the trials left could get it there), `ci-width` (every arm's interval is narrower than
 * --ci-width; then the interval is the target, not the verdict), or `max-trials`.
 */
export function sequentialDecision(state: SequentialState, rule: SequentialRule): SequentialDecision {
  const logE = logEValue(state.withWins, state.noWins);
  const eValue = Math.exp(logE);
  const threshold = Math.log(1 / rule.alpha);
  const direction = state.withWins >= state.noWins ? 'with-skills' : 'no-skills';
  if (rule.ciWidth !== undefined) {
    if (narrowEnough(state.arms, rule.ciWidth, rule.alpha)) return { stop: true, reason: 'ci-width', eValue };
  } else {
    if (logE >= threshold) return { stop: true, reason: 'decided', eValue, direction };
    const remaining = Math.max(0, rule.maxTrials - state.trials);
    if (remaining > 0 && bestReachable(state.withWins, state.noWins, remaining) < threshold)
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
