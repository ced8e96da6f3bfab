import { AA_SUFFIX, originalOf } from '../arms/spec.js';
import { UsageError } from '../errors.js';
import { type ReadOptions, readResults } from '../results/read.js';
import type { TrialRecord } from '../results/record.js';
import { EXCLUDED_STATUSES } from '../results/schema.js';

/**
 * The noise floor from A/A runs (`analyze --noise-from DIR`): DIR holds two or more jobs that ran the same
 * arm of the same tasks with nothing changed, so any difference between two of them is noise. Per task ×
 * agent × model × arm, |pass rate of the first job − pass rate of the second| (jobs in id order); the
 * floor is the 95th percentile (nearest rank) of these |Δ|: a real Δ should exceed what nothing produced.
 */

export interface NoiseFloor {
  /** |Δ| in percentage points below which a task's Δ is noise. */
  floorPp: number;
  /** The A/A pairs (task × agent × model × arm with two jobs) the floor came from. */
  pairs: number;
  /** The largest |Δ| seen between two runs of the same arm. */
  maxPp: number;
}

const ERROR_STATUSES: ReadonlySet<string> = EXCLUDED_STATUSES;

interface Counts {
  trials: number;
  passes: number;
}

/** Folds A/A trials: per cell, per job, trials and passes (errors left out, as analyze does by default). */
export class NoiseAccumulator {
  private readonly cells = new Map<string, Map<string, Counts>>();

  constructor(private readonly passThreshold: number) {}

  add(record: TrialRecord): void {
    // A reused trial (eval --baseline-from) is the same trial twice: its Δ of 0 would be no measurement.
    if (record.jobId === undefined || record.reusedFrom !== undefined || ERROR_STATUSES.has(record.status)) return;
    const key = `${record.agent}\u0000${record.model ?? ''}\u0000${record.task}\u0000${originalOf(record.arm)}`;
    const run = record.arm === originalOf(record.arm) ? record.jobId : `${record.jobId}${AA_SUFFIX}`;
    let jobs = this.cells.get(key);
    if (!jobs) {
      jobs = new Map();
      this.cells.set(key, jobs);
    }
    const counts = jobs.get(run) ?? { trials: 0, passes: 0 };
    counts.trials++;
    if ((record.reward ?? 0) >= this.passThreshold && record.reward !== undefined) counts.passes++;
    jobs.set(run, counts);
  }

  /** The |Δ| (pp) of every cell that two jobs ran. */
  deltas(): number[] {
    const deltas: number[] = [];
    for (const jobs of this.cells.values()) {
      const [first, second] = [...jobs.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      if (!first || !second) continue;
      deltas.push(Math.abs(first[1].passes / first[1].trials - second[1].passes / second[1].trials) * 100);
    }
    return deltas;
  }
}

/** Nearest-rank 95th percentile of the A/A |Δ|; undefined without a pair. */
export function noiseFloorOf(deltas: readonly number[]): NoiseFloor | undefined {
  if (deltas.length === 0) return undefined;
  const sorted = [...deltas].sort((x, y) => x - y);
  const rank = Math.ceil(0.95 * sorted.length);
  return { floorPp: sorted[rank - 1]!, pairs: sorted.length, maxPp: sorted[sorted.length - 1]! };
}

export async function readNoiseFloor(
  dirs: readonly string[],
  passThreshold: number,
  readOptions?: ReadOptions,
): Promise<NoiseFloor> {
  const accumulator = new NoiseAccumulator(passThreshold);
  await readResults(dirs, (record) => accumulator.add(record), readOptions);
  const floor = noiseFloorOf(accumulator.deltas());
  if (!floor)
    throw new UsageError(`--noise-from: no A/A pair in ${dirs.join(', ')}`, {
      hint: 'it needs an `eval --aa` job, or two jobs that ran the same arm of the same task with the same agent and model, e.g. two `skill-eval eval TASKS --no-skills` runs, without --baseline-from',
    });
  return floor;
}
