import { EXCLUDED_STATUSES, type TrialResult } from '../results/schema.js';
import type { SequentialSummary } from './sequential.js';

export interface CellSummary {
  task: string;
  agent: string;
  model?: string | undefined;
  arm: string;
  trials: number;
  passed: number;
  failed: number;
  /** Trials whose status excludes them from rates (EXCLUDED_STATUSES: infra_error, verifier_error, budget_exceeded, replay_miss). */
  errors: number;
  /** passed / (trials − errors); undefined when no valid trial. */
  pass_rate?: number | undefined;
  mean_reward?: number | undefined;
}

export interface JobSummary {
  job_id: string;
  planned: number;
  finished: number;
  statuses: Record<string, number>;
  cells: CellSummary[];
  /** `--trials auto`: the stopping rule and where each task × agent stopped, and why. */
  sequential?: SequentialSummary | undefined;
}

const EXCLUDED: ReadonlySet<string> = EXCLUDED_STATUSES;

/** Counts per task × agent × model × arm: what `summary.json` holds and the end-of-run table shows. */
/** A trial passes when its reward reaches the threshold, whatever ended the agent (a timed-out agent may have finished the work). */
export function summarizeResults(
  jobId: string,
  planned: number,
  results: readonly TrialResult[],
  passThreshold = 1,
): JobSummary {
  const cells = new Map<string, CellSummary & { rewardSum: number; rewardCount: number }>();
  const statuses: Record<string, number> = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const key = JSON.stringify([r.task, r.agent, r.model ?? '', r.arm]);
    let cell = cells.get(key);
    if (!cell) {
      cell = {
        task: r.task,
        agent: r.agent,
        model: r.model,
        arm: r.arm,
        trials: 0,
        passed: 0,
        failed: 0,
        errors: 0,
        rewardSum: 0,
        rewardCount: 0,
      };
      cells.set(key, cell);
    }
    cell.trials += 1;
    if (EXCLUDED.has(r.status)) cell.errors += 1;
    else if (r.reward !== undefined && r.reward >= passThreshold) cell.passed += 1;
    else cell.failed += 1;
    if (r.reward !== undefined && !EXCLUDED.has(r.status)) {
      cell.rewardSum += r.reward;
      cell.rewardCount += 1;
    }
  }
  return {
    job_id: jobId,
    planned,
    finished: results.length,
    statuses,
    cells: [...cells.values()].map(({ rewardSum, rewardCount, ...cell }) => {
      const valid = cell.trials - cell.errors;
      return {
        ...cell,
        pass_rate: valid > 0 ? cell.passed / valid : undefined,
        mean_reward: rewardCount > 0 ? rewardSum / rewardCount : undefined,
      };
    }),
  };
}
