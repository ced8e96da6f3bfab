import { MODE_NAMES } from '../targets/contract.js';
import { renderTable } from '../util/table.js';
import type { SweepChange, SweepRun, SweepSummary } from './schema.js';

/** The end-of-sweep table: each target's score by segment, the training loss, the change vs baseline. */

function scoreCell(run: SweepRun | undefined): string {
  if (!run) return '·';
  if (run.ok && run.score !== undefined) return run.score.toFixed(3);
  return `failed (${run.failed_stage ?? 'run'})`;
}

function signed(value: number, digits: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

function changeCell(change: SweepChange | undefined): string {
  if (!change) return '·';
  const interval = change.ci95 ? ` [${signed(change.ci95.low, 2)}, ${signed(change.ci95.high, 2)}]` : '';
  return `${signed(change.difference, 3)}${interval} (seg ${change.segment})`;
}

export function formatSweepTable(summary: SweepSummary): string {
  const segmentNumbers = Array.from(
    { length: Math.max(summary.config.segments, summary.segments.length) },
    (_, i) => i + 1,
  );
  const phases: { label: string; runs: readonly SweepRun[] }[] = [
    ...(summary.baseline ? [{ label: 'baseline', runs: summary.baseline.runs }] : []),
    ...segmentNumbers.map((n) => ({ label: `seg ${n}`, runs: summary.segments[n - 1]?.runs ?? [] })),
  ];
  const withChanges = summary.baseline !== undefined;
  const header = [
    'target',
    'mode',
    'metric',
    ...phases.map((p) => p.label),
    ...(withChanges ? ['change vs baseline (95% CI)'] : []),
  ];
  const rows: string[][] = [];
  const modes = MODE_NAMES.filter(
    (mode) => mode === 'smoke' || phases.some((p) => p.runs.some((r) => r.mode === mode)),
  );
  for (const mode of modes) {
    for (const target of summary.targets) {
      const runs = phases.map((p) => p.runs.find((r) => r.target === target && r.mode === mode));
      const metric =
        phases.flatMap((p) => p.runs).find((r) => r.target === target && r.primary_metric)?.primary_metric ?? '';
      // The latest segment compared with the baseline.
      const change = summary.changes.filter((c) => c.target === target && c.mode === mode).at(-1);
      rows.push([target, mode, metric, ...runs.map(scoreCell), ...(withChanges ? [changeCell(change)] : [])]);
    }
  }
  const loss = segmentNumbers.map((n) => {
    const train = summary.segments[n - 1]?.train;
    if (!train) return '·';
    if (!train.ok) return 'failed';
    return train.last_loss === undefined ? 'ok' : train.last_loss.toFixed(4);
  });
  rows.push(['(training)', '', 'last_loss', ...(summary.baseline ? ['·'] : []), ...loss, ...(withChanges ? [''] : [])]);
  const align = header.map((_, i) => (i < 3 ? 'left' : 'right') as 'left' | 'right');
  const title = `${summary.base_model}: ${summary.segments.length}/${summary.config.segments} segments × ${summary.config.steps_per_segment} steps${summary.complete ? '' : ' (incomplete)'}`;
  return `${title}\n${renderTable(header, rows, align)}`;
}
