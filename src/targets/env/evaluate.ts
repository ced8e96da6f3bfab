import { wilsonInterval } from '../../analytics/estimators.js';
import type { LoadedContract, ModeName } from '../contract.js';
import type { DriverEvaluation } from '../drivers/types.js';
import type { StageFailure } from '../stages.js';
import type { MetricsFile, RolloutRecord } from './types.js';

/** The evaluation's pieces that are not the driver's: what may be scored, failures, the metrics file. */

function unscored(samples: number, failure: StageFailure): DriverEvaluation {
  return { metrics: {}, counts: { samples }, scoreSource: 'none', notes: [], failure };
}

function integrity(code: string, message: string): StageFailure {
  return { stage: 'evaluate', code, message, class: 'integrity' };
}

/**
 * A score only from an evaluation of a rollout that ran, here, and succeeded, of the samples it wrote:
 * the evaluation that stands for the score otherwise, else undefined.
 */
export function unevaluable(
  runId: string,
  record: RolloutRecord | undefined,
  samplesSha256: string | undefined,
): DriverEvaluation | undefined {
  if (!record)
    return unscored(
      0,
      integrity('no_rollout', `no rollout ran for run ${runId} in this environment: nothing to evaluate`),
    );
  const { samples } = record.result.counts;
  if (!record.result.ok) {
    const code = record.result.failure?.code ?? '?';
    return unscored(
      samples,
      integrity('rollout_failed', `the rollout failed (${code}): nothing trustworthy to evaluate`),
    );
  }
  if (record.samplesSha256 !== samplesSha256)
    return unscored(samples, integrity('samples_changed', 'the samples file changed after the rollout wrote it'));
  return undefined;
}

/** A driver that threw. */
export function failedEvaluation(error: unknown, samples: number): DriverEvaluation {
  return unscored(samples, {
    stage: 'evaluate',
    code: 'driver_error',
    message: (error as Error).message,
    class: 'internal',
  });
}

/** Why the evaluation gives no score, if it gives none: the driver's failure, else `no_score`. */
export function evaluationFailure(
  evaluation: DriverEvaluation,
  [low, high]: readonly [number, number],
): StageFailure | undefined {
  if (evaluation.failure) return evaluation.failure;
  if (evaluation.score === undefined)
    return { stage: 'evaluate', code: 'no_score', message: 'the evaluation produced no score', class: 'score' };
  // Whatever driver scored it, a score outside the contract's range is no score of this benchmark.
  if (!(evaluation.score >= low && evaluation.score <= high))
    return {
      stage: 'evaluate',
      code: 'score_out_of_range',
      message: `${evaluation.scoreSource}: score ${evaluation.score} is outside scoring.range [${low}, ${high}]`,
      class: 'score',
    };
  return undefined;
}

/** `metrics.json`: the score with its metrics, counts, source, interval and provenance. */
export function metricsFile(
  evaluation: DriverEvaluation,
  run: {
    runId: string;
    mode: ModeName;
    target: string;
    record: RolloutRecord | undefined;
    contract: LoadedContract;
    reviewed: boolean;
    failure: StageFailure | undefined;
  },
): MetricsFile {
  const { scoring } = run.contract.contract;
  const ok = !run.failure;
  const n = evaluation.counts.samples;
  const interval =
    evaluation.successes !== undefined && n > 0 && evaluation.successes <= n
      ? wilsonInterval(evaluation.successes, n)
      : undefined;
  return {
    schema: 'skill-eval/target-metrics@1',
    ok,
    score: ok ? evaluation.score : undefined,
    primary_metric: scoring.primary_metric,
    metrics: evaluation.metrics,
    counts: evaluation.counts,
    scoreSource: evaluation.scoreSource,
    kind: scoring.kind,
    official: scoring.official,
    range: scoring.range,
    ci95: ok && interval ? { ...interval, method: 'wilson' } : undefined,
    breakdown: evaluation.breakdown,
    run_id: run.runId,
    mode: run.mode,
    target: run.target,
    model: run.record?.model ?? { name: 'none', kind: 'canary' },
    contract: { file: run.contract.file, digest: run.contract.digest, reviewed: run.reviewed },
    evaluated_at: new Date().toISOString(),
    failure: run.failure,
    notes: evaluation.notes,
  };
}
