import type { AnalysisReport, ArmStats } from '../report.js';

/** One row per configuration × task; rates as fractions, Δ in percentage points, empty where undefined. */

/** The usual comparison's columns are named for its arms; any other's are baseline_… and treatment_…. */
const USUAL_PREFIXES = ['no_skills', 'with_skills'] as const;
const PAIR_PREFIXES = ['baseline', 'treatment'] as const;

export function csvColumns(ks: readonly number[], usual = true): string[] {
  const columns = usual ? ['agent', 'model', 'task'] : ['agent', 'model', 'baseline', 'treatment', 'task'];
  for (const prefix of usual ? USUAL_PREFIXES : PAIR_PREFIXES) {
    columns.push(
      `${prefix}_trials`,
      `${prefix}_passes`,
      `${prefix}_pass_rate`,
      `${prefix}_ci_low`,
      `${prefix}_ci_high`,
      `${prefix}_mean_reward`,
      `${prefix}_excluded`,
      `${prefix}_mean_duration_ms`,
      `${prefix}_mean_tokens`,
    );
    for (const k of ks) columns.push(`${prefix}_pass_at_${k}`, `${prefix}_pass_hat_${k}`);
  }
  columns.push(
    'delta_pp',
    'normalized_gain',
    'p_value',
    'p_adjusted',
    'correction',
    'verdict',
    'direction',
    'negative_delta',
  );
  return columns;
}

/** One report, or one per comparison (`analyze` with more than two arms): then a row names its two arms. */
export function renderCsv(reports: AnalysisReport | readonly AnalysisReport[]): string {
  const list = Array.isArray(reports) ? reports : [reports as AnalysisReport];
  const ks = list[0]!.options.k;
  const usual =
    list.length === 1 &&
    list[0]!.comparison.baseline === 'no-skills' &&
    list[0]!.comparison.treatment === 'with-skills';
  const rows: string[][] = [csvColumns(ks, usual)];
  for (const report of list) rows.push(...reportRows(report, ks, usual));
  return `${rows.map((cells) => cells.map(quote).join(',')).join('\r\n')}\r\n`;
}

function reportRows(report: AnalysisReport, ks: readonly number[], usual: boolean): string[][] {
  const { baseline, treatment } = report.comparison;
  const rows: string[][] = [];
  for (const config of report.configs) {
    for (const row of config.tasks) {
      const cells: string[] = [text(config.agent), text(config.model ?? '')];
      if (!usual) cells.push(text(baseline), text(treatment));
      cells.push(text(row.task));
      for (const arm of [baseline, treatment]) cells.push(...armCells(row.arms[arm], ks));
      cells.push(
        num(row.deltaPp),
        num(row.gain),
        num(row.significance.pValue),
        num(row.significance.adjustedPValue),
        config.summary.correction,
        row.significance.verdict,
        row.significance.direction ?? '',
        row.negativeDelta ? 'true' : 'false',
      );
      rows.push(cells);
    }
  }
  return rows;
}

function armCells(stats: ArmStats | undefined, ks: readonly number[]): string[] {
  if (!stats) return Array.from({ length: 9 + ks.length * 2 }, () => '');
  const cells = [
    String(stats.trials),
    String(stats.passes),
    num(stats.passRate),
    num(stats.passRateCi.low),
    num(stats.passRateCi.high),
    num(stats.meanReward),
    String(stats.excluded),
    num(stats.meanDurationMs),
    num(stats.meanTokens),
  ];
  for (const k of ks) cells.push(num(stats.passAtK[k]), num(stats.passHatK[k]));
  return cells;
}

function num(value: number | undefined): string {
  return value === undefined ? '' : String(Number(value.toPrecision(12)));
}

/** Spreadsheets run cells that start with = + - @ as formulas: user text gets a leading apostrophe. */
function text(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
