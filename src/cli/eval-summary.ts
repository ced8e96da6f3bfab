import { relative } from 'node:path';
import type { JobSummary } from '../jobs/summary.js';
import { renderTable } from '../util/table.js';

function percent(rate: number | undefined): string {
  return rate === undefined ? 'no data' : `${(rate * 100).toFixed(1)} %`;
}

/** The readable end-of-run summary: one row per task × agent × model × arm. */
export function renderEvalSummary(summary: JobSummary, context: { provider: string; jobDir: string; reportPaths: string[]; cwd: string }): string {
  const rows = summary.cells.map((c) => [
    c.task,
    c.model ? `${c.agent} (${c.model})` : c.agent,
    c.arm,
    String(c.trials),
    `${c.passed}/${c.trials - c.errors}`,
    percent(c.pass_rate),
    c.mean_reward === undefined ? '—' : c.mean_reward.toFixed(2),
    String(c.errors),
  ]);
  const table = renderTable(['Task', 'Agent', 'Arm', 'Trials', 'Passed', 'Pass rate', 'Mean reward', 'Errors'], rows);
  const statuses = Object.entries(summary.statuses)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  return [
    '',
    table,
    '',
    `provider: ${context.provider}   trials: ${summary.finished}/${summary.planned} (${statuses || 'none'})`,
    `job: ${relative(context.cwd, context.jobDir) || '.'}`,
    ...context.reportPaths.map((p) => `report: ${relative(context.cwd, p)}`),
    'Errors (infra_error, verifier_error) are excluded from pass rates. For intervals and normalized gain: skill-eval analyze ' + (relative(context.cwd, context.jobDir) || '.'),
  ].join('\n');
}
