import { z } from 'zod';
import { MODE_NAMES } from '../targets/contract.js';

/**
 * `train_and_benchmark_summary.json`: the one record of a sweep, rewritten atomically after every
 * training segment and every target run, and read back to resume. Field names are snake_case like the
 * other result files.
 */

export const SWEEP_SUMMARY_FILE = 'train_and_benchmark_summary.json';
export const SWEEP_SCHEMA = 'skill-eval/train-and-benchmark@1';

/** What a trainer writes to `{out_dir}/train.json`; other keys are kept as they are. */
export const trainReportSchema = z.looseObject({
  ok: z.boolean(),
  steps: z.number().int().nonnegative(),
  last_loss: z.number().optional(),
  /** The checkpoint to serve and continue from, relative to `{out_dir}`; default: `{out_dir}` itself. */
  checkpoint: z.string().min(1).optional(),
});
export type TrainReport = z.output<typeof trainReportSchema>;

const intervalSchema = z.strictObject({ low: z.number(), high: z.number() });
const timestamp = z.string().min(1);
const count = z.number().int().nonnegative();

/** The parts of the env API's metrics.json the sweep reads; the whole file is kept. */
const metricsSchema = z.looseObject({
  ok: z.boolean(),
  score: z.number().optional(),
  primary_metric: z.string(),
  metrics: z.record(z.string(), z.number()),
  counts: z.looseObject({ samples: count }),
  ci95: z.looseObject({ low: z.number(), high: z.number() }).optional(),
});

/** One target in one mode on one model (the baseline or a segment's checkpoint). */
export const runSchema = z.strictObject({
  target: z.string().min(1),
  mode: z.enum(MODE_NAMES),
  ok: z.boolean(),
  rollout_ok: z.boolean(),
  evaluation_ok: z.boolean(),
  score: z.number().optional(),
  primary_metric: z.string().optional(),
  samples: count.optional(),
  /** Present when the score is a proportion of the samples (then `ci95` is its Wilson interval). */
  successes: count.optional(),
  ci95: intervalSchema.optional(),
  metrics: metricsSchema.optional(),
  artifacts_dir: z.string().optional(),
  error: z.string().optional(),
  failed_stage: z.string().optional(),
  failure_code: z.string().optional(),
  failure_class: z.string().optional(),
  canary: z.looseObject({ ok: z.boolean() }).optional(),
  repair: z.looseObject({ iterations: count, fixed: z.boolean() }).optional(),
  started_at: timestamp,
  duration_ms: count,
});
export type SweepRun = z.output<typeof runSchema>;

/** The model server of a phase (the last time it was started). */
export const serveSchema = z.strictObject({
  base_url: z.string().min(1),
  model_name: z.string().min(1),
  /** Absent with `--base-url`: nothing was started. */
  command: z.string().optional(),
  log: z.string().optional(),
  pgid: z.number().int().positive().optional(),
  ready_ms: count.optional(),
  /** True when the whole process group was gone after the stop. */
  stopped_cleanly: z.boolean().optional(),
});
export type ServeRecord = z.output<typeof serveSchema>;

export const trainSchema = z.strictObject({
  ok: z.boolean(),
  steps: count.optional(),
  last_loss: z.number().optional(),
  /** What `{model}` was: the base model or the previous segment's checkpoint. */
  from: z.string().min(1),
  command: z.string().min(1),
  log: z.string().min(1),
  /** train.json as the trainer wrote it. */
  report: z.record(z.string(), z.unknown()).optional(),
  exit_code: z.number().int().optional(),
  timed_out: z.boolean().optional(),
  /** True when this invocation found the segment trained already (train.json ok, checkpoint present). */
  resumed: z.boolean(),
  started_at: timestamp.optional(),
  duration_ms: count.optional(),
  error: z.string().optional(),
});

export const baselineSchema = z.strictObject({
  checkpoint: z.string().min(1),
  serve: serveSchema.optional(),
  runs: z.array(runSchema),
});

export const segmentSchema = z.strictObject({
  segment: z.number().int().positive(),
  checkpoint: z.string().min(1).optional(),
  train: trainSchema.optional(),
  serve: serveSchema.optional(),
  runs: z.array(runSchema),
});
export type SweepSegment = z.output<typeof segmentSchema>;

/** A target's score in a segment against the baseline's, same mode. */
export const changeSchema = z.strictObject({
  target: z.string().min(1),
  mode: z.enum(MODE_NAMES),
  segment: z.number().int().positive(),
  baseline_score: z.number(),
  score: z.number(),
  difference: z.number(),
  /** 95 % interval of the difference; absent when either score is not a proportion of counted samples. */
  ci95: intervalSchema.optional(),
  method: z.enum(['newcombe-wilson', 'none']),
});
export type SweepChange = z.output<typeof changeSchema>;

export const sweepConfigSchema = z.strictObject({
  segments: z.number().int().positive(),
  steps_per_segment: z.number().int().positive(),
  trainer: z.string().min(1),
  serve: z.string().min(1).optional(),
  base_url: z.string().min(1).optional(),
  model_name: z.string().min(1),
  targets_file: z.string().optional(),
  require_samples: z.boolean(),
  smoke_limit: z.number().int().positive().optional(),
  full_after_last: z.boolean(),
  baseline: z.boolean(),
  repair_iters: count,
  canary_check: z.boolean(),
});
export type SweepConfig = z.output<typeof sweepConfigSchema>;

export const sweepSummarySchema = z
  .strictObject({
    schema: z.literal(SWEEP_SCHEMA),
    base_model: z.string().min(1),
    /** In file order: every phase lists its runs in this order (smoke runs first, then full). */
    targets: z.array(z.string().min(1)).min(1),
    config: sweepConfigSchema,
    created_at: timestamp,
    updated_at: timestamp,
    /** Every planned run is recorded and every segment trained. */
    complete: z.boolean(),
    baseline: baselineSchema.optional(),
    segments: z.array(segmentSchema),
    changes: z.array(changeSchema),
  })
  .superRefine((summary, context) => {
    summary.segments.forEach((segment, index) => {
      if (segment.segment !== index + 1)
        context.addIssue({
          code: 'custom',
          path: ['segments', index, 'segment'],
          message: `segments must be numbered 1, 2, … in order; found ${segment.segment} at position ${index + 1}`,
        });
    });
    const phases = [
      ...(summary.baseline ? [{ path: ['baseline'], runs: summary.baseline.runs }] : []),
      ...summary.segments.map((s, i) => ({ path: ['segments', i], runs: s.runs })),
    ];
    for (const phase of phases) {
      const keys = phase.runs.map((run) => runOrder(summary.targets, run));
      keys.forEach((key, index) => {
        const run = phase.runs[index]!;
        if (key < 0)
          context.addIssue({
            code: 'custom',
            path: [...phase.path, 'runs', index, 'target'],
            message: `target ${JSON.stringify(run.target)} is not in targets`,
          });
        else if (index > 0 && key <= keys[index - 1]!)
          context.addIssue({
            code: 'custom',
            path: [...phase.path, 'runs', index],
            message: 'runs must be in plan order (smoke before full, targets in file order), each once',
          });
      });
    }
  });
export type SweepSummary = z.output<typeof sweepSummarySchema>;

/** A run's place in its phase: smoke runs in target order, then full runs; -1 for an unknown target. */
export function runOrder(targets: readonly string[], run: Pick<SweepRun, 'target' | 'mode'>): number {
  const index = targets.indexOf(run.target);
  if (index < 0) return -1;
  return MODE_NAMES.indexOf(run.mode) * targets.length + index;
}
