import { wilsonInterval } from '../analytics/estimators.js';
import { describeStop } from '../jobs/sequential.js';
import type { JobSummary } from '../jobs/summary.js';
import { displayPath } from '../util/problems.js';
import { renderTable } from '../util/table.js';

/** `80.0 % [37.6–96.4]`: a rate is never shown without its Wilson 95 % interval. */
function rateWithInterval(passed: number, valid: number): string {
  const interval = wilsonInterval(passed, valid);
  if (valid === 0 || !interval) return 'no data';
  const pct = (x: number): string => (x * 100).toFixed(1);
  return `${pct(passed / valid)} % [${pct(interval.low)}–${pct(interval.high)}]`;
}

/** The readable end-of-run summary: one row per task × agent × model × arm. */
export function renderEvalSummary(
  summary: JobSummary,
  context: { provider: string; jobDir: string; reportPaths: string[]; cwd: string },
): string {
  const rows = summary.cells.map((c) => [
    c.task,
    c.model ? `${c.agent} (${c.model})` : c.agent,
    c.arm,
    String(c.trials),
    `${c.passed}/${c.trials - c.errors}`,
    rateWithInterval(c.passed, c.trials - c.errors),
    c.mean_reward === undefined ? '—' : c.mean_reward.toFixed(2),
    String(c.errors),
  ]);
  const table = renderTable(
    ['Task', 'Agent', 'Arm', 'Trials', 'Passed', 'Pass rate [95% CI]', 'Mean reward', 'Errors'],
    rows,
  );
  const statuses = Object.entries(summary.statuses)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const sequential = summary.sequential;
  const stops = sequential
    ? [
        '',
        `--trials auto (${sequential.method}, α = ${sequential.alpha}, at most ${sequential.max_trials} per arm${sequential.ci_width === undefined ? '' : `, CI width < ${sequential.ci_width}`}):`,
        ...sequential.tasks.map((stop) => `  ${describeStop(stop)}`),
      ]
    : [];
  return [
    '',
    table,
    ...stops,
    '',
    `provider: ${context.provider}   trials: ${summary.finished}/${summary.planned} (${statuses || 'none'})`,
    `job: ${displayPath(context.jobDir, context.cwd)}`,
    ...context.reportPaths.map((p) => `report: ${displayPath(p, context.cwd)}`),
    'Errors (infra_error, verifier_error) and gateway stops (budget_exceeded, replay_miss) are excluded from pass rates. Normalized gain, significance, pass@k: skill-eval analyze ' +
      displayPath(context.jobDir, context.cwd),
  ].join('\n');
}

/** Both arms' comparison as `skill-eval analyze` shows it: gain, interval, verdict. */
export async function renderComparison(jobDir: string, passThreshold: number): Promise<string> {
  const { analyzeComparisons } = await import('../analytics/analyze.js');
  const { renderTerminalSet } = await import('../analytics/render/terminal.js');
  const settings = { passThreshold, includeErrorsAsFailures: false, k: [1] };
  // The first arm is the baseline when the job has no no-skills arm (`--aa with-skills`, `--arms` without it).
  const arms = await jobArms(jobDir);
  const baseline = arms.includes('no-skills') ? 'no-skills' : arms[0];
  const reports = await analyzeComparisons([jobDir], settings, { baseline });
  return renderTerminalSet(reports, { color: process.stdout.isTTY === true && !process.env.NO_COLOR });
}

async function jobArms(jobDir: string): Promise<string[]> {
  const { readJobConfig } = await import('../jobs/job-config.js');
  return (await readJobConfig(jobDir).catch(() => undefined))?.arms ?? [];
}
