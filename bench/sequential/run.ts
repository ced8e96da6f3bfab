/**
 * `eval --trials auto` against a fixed number of trials, by simulation (no trial runs): SkillsBench-like tasks —
 * baseline pass rates spread over 0–1, gains mostly small and positive, some large, about one in five negative —
 * each run both ways: a fixed n = --max-trials per arm judged by Fisher's exact test (what `analyze` reports), and
 * the sequential rule (src/analytics/sequential.ts) in rounds of SEQUENTIAL_ROUND trials per arm. Prints trials
 * used, the false-positive rate with no effect (Δ = 0), and power, for both, and their ratios, measured in one run.
 *
 *   npx tsx bench/sequential/run.ts [--tasks N] [--seed S] [--max-trials N] [--alpha A]
 */
import { fisherExactTwoSided } from '../../src/analytics/estimators.js';
import { sequentialDecision, sequentialState } from '../../src/analytics/sequential.js';
import { SEQUENTIAL_ROUND } from '../../src/jobs/sequential.js';
import { mulberry32 } from '../../src/util/random.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const TASKS = flag('--tasks', 20_000);
const MAX = flag('--max-trials', 20);
const ALPHA = flag('--alpha', 0.05);

const random = mulberry32(flag('--seed', 21));
const uniform = (low: number, high: number): number => low + (high - low) * random();
const clamp = (x: number): number => Math.min(1, Math.max(0, x));

/** SkillsBench-like gains: 60 % small positive, 20 % large positive, 20 % negative. */
function skillsBenchDelta(): number {
  const u = random();
  if (u < 0.6) return uniform(0.02, 0.15);
  if (u < 0.8) return uniform(0.25, 0.6);
  return -uniform(0.02, 0.2);
}

interface Outcome {
  trials: number;
  reason?: string | undefined;
  significant: boolean;
  /** Significant with the sign of the true difference. */
  right: boolean;
}

function fixed(pWith: number, pNo: number): Outcome {
  let a = 0;
  let c = 0;
  for (let i = 0; i < MAX; i++) {
    if (random() < pWith) a += 1;
    if (random() < pNo) c += 1;
  }
  const significant = fisherExactTwoSided(a, MAX - a, c, MAX - c) < ALPHA;
  return { trials: 2 * MAX, significant, right: significant && Math.sign(a - c) === Math.sign(pWith - pNo) };
}

function sequential(pWith: number, pNo: number): Outcome {
  const withSkills = new Map<number, boolean>();
  const noSkills = new Map<number, boolean>();
  for (let trials = SEQUENTIAL_ROUND; ; trials += SEQUENTIAL_ROUND) {
    for (let i = trials - SEQUENTIAL_ROUND + 1; i <= trials; i++) {
      withSkills.set(i, random() < pWith);
      noSkills.set(i, random() < pNo);
    }
    const decision = sequentialDecision(sequentialState({ withSkills, noSkills }, trials), {
      alpha: ALPHA,
      maxTrials: MAX,
    });
    if (!decision.stop) continue;
    const significant = decision.reason === 'decided';
    const expected = pWith > pNo ? 'with-skills' : 'no-skills';
    return {
      trials: 2 * trials,
      reason: decision.reason,
      significant,
      right: significant && decision.direction === expected,
    };
  }
}

interface Totals {
  trials: number;
  /** Tasks per stop reason (the sequential design). */
  reasons: Record<string, number>;
  /** Trials per task where |Δ| ≥ 0.25, and how many such tasks. */
  largeTrials: number;
  large: number;
  significant: number;
  right: number;
}

function measure(draw: () => [number, number], design: (pWith: number, pNo: number) => Outcome): Totals {
  const totals: Totals = { trials: 0, significant: 0, right: 0, reasons: {}, largeTrials: 0, large: 0 };
  for (let t = 0; t < TASKS; t++) {
    const [pWith, pNo] = draw();
    const outcome = design(pWith, pNo);
    totals.trials += outcome.trials;
    if (outcome.reason) totals.reasons[outcome.reason] = (totals.reasons[outcome.reason] ?? 0) + 1;
    if (Math.abs(pWith - pNo) >= 0.25) {
      totals.large += 1;
      totals.largeTrials += outcome.trials;
    }
    if (outcome.significant) totals.significant += 1;
    if (outcome.right) totals.right += 1;
  }
  return totals;
}

const skillsBench = (): [number, number] => {
  const base = random();
  return [clamp(base + skillsBenchDelta()), base];
};
const noEffect = (): [number, number] => {
  const base = random();
  return [base, base];
};

const started = performance.now();
const rows = [
  { name: 'fixed', design: fixed },
  { name: 'auto', design: sequential },
].map(({ name, design }) => ({ name, bench: measure(skillsBench, design), null: measure(noEffect, design) }));
const [f, s] = [rows[0]!, rows[1]!];
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
console.log(`${TASKS} simulated tasks per scenario, max ${MAX} trials per arm, α = ${ALPHA}`);
for (const row of rows)
  console.log(
    `${row.name.padEnd(6)} trials/task ${(row.bench.trials / TASKS).toFixed(1).padStart(5)} (Δ = 0: ${(row.null.trials / TASKS).toFixed(1)})` +
      `   false positives (Δ = 0) ${pct(row.null.significant / TASKS)}   power (SkillsBench-like) ${pct(row.bench.right / TASKS)}`,
  );
const saved = 1 - s.bench.trials / f.bench.trials;
const savedNull = 1 - s.null.trials / f.null.trials;
console.log(
  `trials saved: ${pct(saved)} (SkillsBench-like), ${pct(savedNull)} (Δ = 0) — goal ≥ 40 %: ratio ${(saved / 0.4).toFixed(2)}`,
);
console.log(
  `false-positive rate auto/fixed: ${(s.null.significant / Math.max(1, f.null.significant)).toFixed(2)}   power auto/fixed: ${(s.bench.right / Math.max(1, f.bench.right)).toFixed(2)}`,
);
const reasons = (totals: Totals): string =>
  Object.entries(totals.reasons)
    .map(([reason, n]) => `${reason} ${pct(n / TASKS)}`)
    .join(', ');
console.log(`auto stops (SkillsBench-like): ${reasons(s.bench)}; (Δ = 0): ${reasons(s.null)}`);
console.log(
  `trials per arm on tasks with |Δ| ≥ 0.25: auto ${(s.bench.largeTrials / 2 / Math.max(1, s.bench.large)).toFixed(1)}, fixed ${MAX}`,
);
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
