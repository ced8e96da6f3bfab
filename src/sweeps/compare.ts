import { type Interval, wilsonInterval, Z95 } from '../analytics/estimators.js';
import { MODE_NAMES, type ModeName } from '../targets/contract.js';
import type { SweepChange, SweepRun, SweepSummary } from './schema.js';

export interface Proportion {
  successes: number;
  trials: number;
}

/**
 * 95 % interval for the difference of two proportions p₁ − p₂ by Newcombe's hybrid score method
 * (Newcombe 1998, method 10), built from the two Wilson intervals. It treats the two runs as independent
 * samples; a sweep asks the same questions of every checkpoint, which correlates the runs positively,
 * so the interval is, if anything, wider than a paired one would be.
 */
export function newcombeDifference(first: Proportion, second: Proportion, z: number = Z95): Interval | undefined {
  const a = wilsonInterval(first.successes, first.trials, z);
  const b = wilsonInterval(second.successes, second.trials, z);
  if (!a || !b) return undefined;
  const p1 = first.successes / first.trials;
  const p2 = second.successes / second.trials;
  const difference = p1 - p2;
  return {
    low: Math.max(-1, difference - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2)),
    high: Math.min(1, difference + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)),
  };
}

function proportionOf(run: SweepRun): Proportion | undefined {
  return run.successes !== undefined && run.samples !== undefined && run.samples > 0 && run.successes <= run.samples
    ? { successes: run.successes, trials: run.samples }
    : undefined;
}

/** Every (target, mode, segment) whose baseline run and segment run both succeeded with a score, in plan order. */
export function changesVsBaseline(summary: Pick<SweepSummary, 'targets' | 'baseline' | 'segments'>): SweepChange[] {
  const baseline = summary.baseline;
  if (!baseline) return [];
  const changes: SweepChange[] = [];
  for (const target of summary.targets) {
    for (const mode of MODE_NAMES as readonly ModeName[]) {
      const reference = baseline.runs.find((run) => run.target === target && run.mode === mode);
      if (reference?.score === undefined || !reference.ok) continue;
      for (const segment of summary.segments) {
        const run = segment.runs.find((r) => r.target === target && r.mode === mode);
        if (run?.score === undefined || !run.ok) continue;
        const a = proportionOf(run);
        const b = proportionOf(reference);
        const interval = a && b ? newcombeDifference(a, b) : undefined;
        changes.push({
          target,
          mode,
          segment: segment.segment,
          baseline_score: reference.score,
          score: run.score,
          difference: run.score - reference.score,
          ...(interval ? { ci95: interval } : {}),
          method: interval ? 'newcombe-wilson' : 'none',
        });
      }
    }
  }
  return changes;
}
