import { describe, expect, it } from 'vitest';
import { changesVsBaseline } from '../../src/sweeps/compare.js';
import { formatSweepTable } from '../../src/sweeps/report.js';
import type { SweepRun, SweepSummary } from '../../src/sweeps/schema.js';

const run = (target: string, score: number | undefined, extra: Partial<SweepRun> = {}): SweepRun => ({
  target,
  mode: 'smoke',
  ok: score !== undefined,
  rollout_ok: true,
  evaluation_ok: score !== undefined,
  score,
  primary_metric: 'acc',
  successes: score === undefined ? undefined : score * 10,
  samples: 10,
  started_at: '2026-01-01T00:00:00.000Z',
  duration_ms: 1,
  ...extra,
});
const train = (loss: number) => ({
  ok: true,
  last_loss: loss,
  from: 'x',
  command: 'train',
  log: 'train.log',
  resumed: false,
});

describe('the end-of-sweep table', () => {
  it("shows each target's score by segment in file order, the loss, failures, pending runs and the change vs baseline", () => {
    const summary: SweepSummary = {
      schema: 'skill-eval/train-and-benchmark@1',
      base_model: 'tiny-base',
      targets: ['bench-b', 'bench-a'],
      config: {
        segments: 3,
        steps_per_segment: 5,
        trainer: 't',
        serve: 's {port}',
        model_name: '{checkpoint}',
        require_samples: false,
        full_after_last: false,
        baseline: true,
        repair_iters: 0,
        canary_check: true,
      },
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      complete: false,
      baseline: { checkpoint: 'tiny-base', runs: [run('bench-b', 0.1), run('bench-a', 0.5)] },
      segments: [
        {
          segment: 1,
          train: train(0.9),
          runs: [run('bench-b', 0.4), run('bench-a', undefined, { failed_stage: 'rollout' })],
        },
        { segment: 2, train: train(0.5), runs: [run('bench-b', 0.8)] },
      ],
      changes: [],
    };
    summary.changes = changesVsBaseline(summary);
    const table = formatSweepTable(summary);
    const lines = table.split('\n');
    expect(lines[0]).toBe('tiny-base: 2/3 segments × 5 steps (incomplete)');
    expect(lines[1]).toMatch(
      /^target\s+\| mode\s+\| metric\s+\|\s+baseline \|\s+seg 1 \|\s+seg 2 \|\s+seg 3 \|\s+change vs baseline \(95% CI\)$/,
    );
    expect(lines[3]).toMatch(
      /^bench-b\s+\| smoke \| acc\s+\|\s+0\.100 \|\s+0\.400 \|\s+0\.800 \|\s+· \|\s+\+0\.700 \[\+0\.\d\d, \+0\.\d\d\] \(seg 2\)$/,
    );
    expect(lines[4]).toMatch(/^bench-a\s+\| smoke \| acc\s+\|\s+0\.500 \| failed \(rollout\) \|\s+· \|\s+· \|\s+·$/);
    expect(lines[5]).toMatch(/^\(training\)\s+\|\s+\| last_loss \|\s+· \|\s+0\.9000 \|\s+0\.5000 \|\s+· \|$/);
  });
});
