import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isComplete, parseTargetsFile, plannedModes, readTrainReport, recordRun } from '../../src/sweeps/run.js';
import { type SweepRun, type SweepSummary, sweepSummarySchema } from '../../src/sweeps/schema.js';

const run = (target: string, mode: 'smoke' | 'full' = 'smoke'): SweepRun => ({
  target,
  mode,
  ok: true,
  rollout_ok: true,
  evaluation_ok: true,
  score: 1,
  started_at: '2026-01-01T00:00:00.000Z',
  duration_ms: 1,
});

function summary(overrides: Partial<SweepSummary> = {}): SweepSummary {
  return {
    schema: 'skill-eval/train-and-benchmark@1',
    base_model: 'base',
    targets: ['t1', 't2'],
    config: {
      segments: 2,
      steps_per_segment: 3,
      trainer: 'train {out_dir}',
      serve: 'serve {port}',
      model_name: '{checkpoint}',
      require_samples: true,
      full_after_last: true,
      baseline: false,
      repair_iters: 0,
      canary_check: true,
    },
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    complete: false,
    segments: [],
    changes: [],
    ...overrides,
  };
}

const trained = { ok: true, from: 'base', command: 'train', log: 'train.log', resumed: false };

describe('the targets file', () => {
  it('keeps file order, skips blanks and comments', () => {
    expect(parseTargetsFile('# benchmarks\n./b\n\n  org/a@main  \n# ./c\nhttps://x/y.git#v1\n', 'f')).toEqual([
      './b',
      'org/a@main',
      'https://x/y.git#v1',
    ]);
  });
  it('refuses an empty list and duplicates', () => {
    expect(() => parseTargetsFile('# nothing\n', 'f')).toThrow(UsageError);
    expect(() => parseTargetsFile('a\nb\na\n', 'list.txt')).toThrow(/list.txt:3: a is listed twice/);
  });
});

describe('the plan', () => {
  it('runs full on the baseline and the last segment only with --full-after-last', () => {
    const config = { segments: 3, full_after_last: true };
    expect([0, 1, 2, 3].map((n) => plannedModes(config, n))).toEqual([
      ['smoke', 'full'],
      ['smoke'],
      ['smoke'],
      ['smoke', 'full'],
    ]);
    expect(plannedModes({ segments: 3, full_after_last: false }, 3)).toEqual(['smoke']);
  });

  it('records runs in plan order whatever order they finish in, replacing a re-run', () => {
    const runs: SweepRun[] = [];
    for (const r of [run('t2', 'full'), run('t2'), run('t1', 'full'), run('t1')]) recordRun(runs, r, ['t1', 't2']);
    expect(runs.map((r) => `${r.target}/${r.mode}`)).toEqual(['t1/smoke', 't2/smoke', 't1/full', 't2/full']);
    recordRun(runs, { ...run('t2'), score: 0.5 }, ['t1', 't2']);
    expect(runs).toHaveLength(4);
    expect(runs[1]!.score).toBe(0.5);
  });

  it('is complete when every segment trained and every planned run is recorded', () => {
    const segment1 = { segment: 1, train: trained, runs: [run('t1'), run('t2')] };
    const segment2 = { segment: 2, train: trained, runs: [run('t1'), run('t2'), run('t1', 'full')] };
    expect(isComplete(summary({ segments: [segment1, segment2] }))).toBe(false);
    segment2.runs.push(run('t2', 'full'));
    expect(isComplete(summary({ segments: [segment1, segment2] }))).toBe(true);
    expect(isComplete(summary({ segments: [segment1, { ...segment2, train: { ...trained, ok: false } }] }))).toBe(
      false,
    );
  });
});

describe('the summary schema', () => {
  it('accepts a well-formed summary', () => {
    expect(
      sweepSummarySchema.safeParse(
        summary({ segments: [{ segment: 1, train: trained, runs: [run('t1'), run('t2')] }] }),
      ).success,
    ).toBe(true);
  });
  it('rejects runs out of file order, unknown targets and misnumbered segments', () => {
    const outOfOrder = sweepSummarySchema.safeParse(
      summary({ segments: [{ segment: 1, runs: [run('t2'), run('t1')] }] }),
    );
    expect(outOfOrder.success).toBe(false);
    expect(JSON.stringify(outOfOrder.error?.issues)).toMatch(/plan order/);
    expect(sweepSummarySchema.safeParse(summary({ segments: [{ segment: 1, runs: [run('t3')] }] })).success).toBe(
      false,
    );
    expect(sweepSummarySchema.safeParse(summary({ segments: [{ segment: 2, runs: [] }] })).success).toBe(false);
  });
});

describe("the trainer's train.json", () => {
  it('needs ok, steps and an existing checkpoint directory; keeps every other key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-train-json-'));
    expect(await readTrainReport(dir)).toMatchObject({ ok: false, error: expect.stringMatching(/wrote no/) });
    await writeFile(join(dir, 'train.json'), '{"ok": true}');
    expect(await readTrainReport(dir)).toMatchObject({ ok: false, error: expect.stringMatching(/steps/) });
    await writeFile(join(dir, 'train.json'), '{"ok": false, "steps": 3}');
    expect(await readTrainReport(dir)).toMatchObject({ ok: false, error: expect.stringMatching(/ok: false/) });
    await writeFile(
      join(dir, 'train.json'),
      '{"ok": true, "steps": 3, "last_loss": 0.5, "checkpoint": "step-3", "lr": 0.1}',
    );
    expect(await readTrainReport(dir)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/step-3.*not a directory/),
    });
    await mkdir(join(dir, 'step-3'));
    expect(await readTrainReport(dir)).toEqual({
      ok: true,
      checkpoint: join(dir, 'step-3'),
      report: { ok: true, steps: 3, last_loss: 0.5, checkpoint: 'step-3', lr: 0.1 },
    });
  });
});
