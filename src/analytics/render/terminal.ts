import pc from 'picocolors';
import { formatProblem } from '../../errors.js';
import {
  armLabel,
  comparisonWords,
  formatArmRate,
  formatDeltaPp,
  formatGain,
  formatVerdict,
  perArm,
  plural,
  summaryFacts,
} from '../format.js';
import type { AnalysisReport, FlaggedTrials, TaskRow } from '../report.js';

/** At most this many errored trials are named in the terminal; --json lists them all. */
const NAMED_ERRORS = 10;

export interface TerminalOptions {
  /** ANSI colours; the CLI turns them on only for a TTY. */
  color: boolean;
}

type Paint = (text: string) => string;

/**
 * The original README's table (`Task | Pass Rate (No Skill) | Pass Rate (With Skill) | Normalized Gain`),
 * now with intervals, Δ and a verdict: one table per agent/model configuration, then its summary.
 */
export function renderTerminal(report: AnalysisReport, options: TerminalOptions): string {
  const colors = pc.createColors(options.color);
  const lines: string[] = [];
  const { inputs } = report;
  lines.push(
    colors.bold('skill-eval analyze') +
      colors.dim(
        ` — ${plural(inputs.trials, 'trial')} from ${plural(inputs.filesRead, 'file')} (${plural(inputs.trialResults, 'trial result')}, ${plural(inputs.legacyReports, 'legacy report')})` +
          `, pass = reward ≥ ${report.options.passThreshold}`,
      ),
  );
  for (const config of report.configs) {
    lines.push('');
    lines.push(colors.bold(colors.cyan(config.label)) + colors.dim(` — ${plural(config.tasks.length, 'task')}`));
    const header = [
      'Task',
      `Pass Rate (${armLabel(config.summary.comparison.baseline)})`,
      `Pass Rate (${armLabel(config.summary.comparison.treatment)})`,
      'Δ',
      'Normalized Gain',
      'Verdict',
    ];
    const rows = config.tasks.map((row) => [
      row.task,
      formatArmRate(row.arms[config.summary.comparison.baseline]),
      formatArmRate(row.arms[config.summary.comparison.treatment]),
      formatDeltaPp(row.deltaPp) + (row.negativeDelta ? ' ▼' : ''),
      formatGain(row.gain),
      formatVerdict(row, config.summary.correction, config.summary.comparison),
    ]);
    const paints = config.tasks.map((row) => rowPaints(row, colors));
    lines.push(...table(header, rows, paints, colors));
    for (const [label, value] of summaryFacts(config)) lines.push(`  ${colors.dim(`${label}:`)} ${value}`);
  }
  lines.push(...errorLines(report, colors));
  lines.push(...auditLines(report, colors));
  if (report.problems.length > 0) {
    lines.push('');
    lines.push(
      colors.yellow(`Skipped ${report.problems.length} unreadable ${report.problems.length === 1 ? 'file' : 'files'}:`),
    );
    for (const problem of report.problems) {
      lines.push(`  ${formatProblem({ file: problem.file, message: problem.reason, severity: 'warning' })}`);
    }
  }
  const notes: string[] = [];
  if (inputs.skippedReportFiles > 0)
    notes.push(
      `${plural(inputs.skippedReportFiles, 'per-task report file')} skipped (trial results are authoritative)`,
    );
  if (inputs.duplicateTrials > 0) notes.push(`${plural(inputs.duplicateTrials, 'duplicate trial')} ignored`);
  if (notes.length > 0) lines.push('', colors.dim(`Note: ${notes.join('; ')}.`));
  return `${lines.join('\n')}\n`;
}

function rowPaints(row: TaskRow, colors: ReturnType<typeof pc.createColors>): Array<Paint | undefined> {
  const verdict: Paint | undefined =
    row.significance.direction === 'skills help'
      ? colors.green
      : row.significance.direction === 'skills hurt'
        ? colors.red
        : colors.dim;
  const delta: Paint | undefined = row.negativeDelta
    ? colors.red
    : row.deltaPp !== undefined && row.deltaPp > 0
      ? colors.green
      : undefined;
  return [undefined, undefined, undefined, delta, undefined, verdict];
}

/** Aligned columns; widths come from the plain text so that colour codes never shift a column. */
function table(
  header: string[],
  rows: string[][],
  paints: Array<Array<Paint | undefined>>,
  colors: ReturnType<typeof pc.createColors>,
): string[] {
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column] ?? ''))));
  const numeric = new Set([3, 4]);
  const line = (cells: string[], cellPaints: Array<Paint | undefined> = []): string =>
    cells
      .map((cell, column) => {
        const padding = ' '.repeat(widths[column]! - width(cell));
        const padded = numeric.has(column) ? padding + cell : column === cells.length - 1 ? cell : cell + padding;
        const paint = cellPaints[column];
        return paint ? paint(padded) : padded;
      })
      .join(colors.dim(' │ '));
  return [
    colors.bold(line(header)),
    colors.dim(widths.map((w) => '─'.repeat(w)).join('─┼─')),
    ...rows.map((row, index) => line(row, paints[index])),
  ];
}

/** Display width: every code point one column (our text has no wide characters but task names might). */
function width(text: string): number {
  return [...text].length;
}

function errorLines(report: AnalysisReport, colors: ReturnType<typeof pc.createColors>): string[] {
  const { errors } = report;
  if (errors.count === 0) return [];
  const byStatus = Object.entries(errors.byStatus)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  const treatment = errors.countedAsFailures
    ? 'counted as failures (--include-errors-as-failures)'
    : 'excluded from the rates';
  const lines = [
    '',
    colors.yellow(`${errors.count} errored ${errors.count === 1 ? 'trial' : 'trials'} (${byStatus}), ${treatment}:`),
  ];
  for (const trial of errors.trials.slice(0, NAMED_ERRORS)) {
    lines.push(`  ${trial.trial} ${colors.dim(`[${trial.status}]${trial.message ? ` ${trial.message}` : ''}`)}`);
  }
  if (errors.trials.length > NAMED_ERRORS)
    lines.push(colors.dim(`  … and ${errors.trials.length - NAMED_ERRORS} more (--json lists them all)`));
  return lines;
}

/** The isolation and tamper audits: counts per arm, then the flagged trials (the first few). */
function auditLines(report: AnalysisReport, colors: ReturnType<typeof pc.createColors>): string[] {
  const lines: string[] = [];
  const { contamination, tamper } = report;
  const sections: Array<[FlaggedTrials, string]> = [
    [
      contamination,
      `${plural(contamination.count, 'contaminated no-skills trial')} (a skill reached the baseline), ${contamination.included ? 'counted in the rates (--include-contaminated)' : 'excluded from the rates'}`,
    ],
    [
      tamper,
      `${plural(tamper.count, 'trial')} touched verifier territory (${perArm(tamper)}); rewards are the verifier's`,
    ],
  ];
  if (report.reused.count > 0)
    lines.push(
      '',
      colors.dim(
        `${plural(report.reused.count, 'trial')} reused from ${report.reused.fromJobs.join(', ')} (${perArm(report.reused)}; eval --baseline-from)`,
      ),
    );
  for (const { jobId, models } of report.modelsServed ?? [])
    lines.push('', `job ${jobId}: calls were served by different model ids: ${models.join(', ')} (usage.modelsServed)`);
  for (const [flagged, title] of sections) {
    if (flagged.count === 0) continue;
    lines.push('', colors.yellow(`${title}:`));
    for (const trial of flagged.trials.slice(0, NAMED_ERRORS))
      lines.push(`  ${trial.trial} ${colors.dim(trial.message ?? '')}`.trimEnd());
    if (flagged.trials.length > NAMED_ERRORS)
      lines.push(colors.dim(`  … and ${flagged.trials.length - NAMED_ERRORS} more (--json lists them all)`));
  }
  return lines;
}

/** One comparison: its report; several (`analyze` with more than two arms): each under a heading naming its pair. */
export function renderTerminalSet(reports: readonly AnalysisReport[], options: TerminalOptions): string {
  if (reports.length === 1) return renderTerminal(reports[0]!, options);
  const bold = pc.createColors(options.color).bold;
  return reports
    .map((report) => `${bold(`━━ ${comparisonWords(report.comparison).title}`)}\n${renderTerminal(report, options)}`)
    .join('\n');
}
