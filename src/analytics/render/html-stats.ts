import type { Arm } from '../../results/read.js';
import {
  armLabel,
  comparisonWords,
  correctionMethod,
  correctionRule,
  formatArmRate,
  formatBound,
  formatCount,
  formatDeltaInterval,
  formatDeltaPp,
  formatDurationMs,
  formatGain,
  formatPercent,
  formatVerdict,
  summaryFacts,
} from '../format.js';
import type { AnalysisReport, ConfigReport, TaskRow, TrialSample } from '../report.js';

/**
 * The statistics as HTML: cards, inline SVG charts and tables, drawn from an analysis report. One rendering for
 * `analyze --html` (html.ts) and the viewer's job page (src/view/app): no DOM, no Node, only strings.
 * Every piece of user text (task names, agents, messages, paths) goes through `escapeHtml`.
 */

/** The baseline's colour, the treatment's. */
const PAIR_COLORS = ['#d97706', '#2563eb'] as const;

/** The two arms a configuration's report compares, baseline first, each with its colour. */
function pairOf(config: ConfigReport): Array<{ arm: Arm; color: string }> {
  const { baseline, treatment } = config.summary.comparison;
  return [
    { arm: baseline, color: PAIR_COLORS[0] },
    { arm: treatment, color: PAIR_COLORS[1] },
  ];
}
const WORSE = '#dc2626';
const BETTER = '#16a34a';
const NEUTRAL = '#64748b';
const CHART_WIDTH = 960;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** What a page embedding the statistics may change: which task rows (filtered, sorted) and where a task links to. */
export interface StatsOptions {
  /** The rows of the task table, in order (default: every task of the configuration, as analyzed). */
  rows?: readonly TaskRow[] | undefined;
  /** A link for each task's name in the table (the viewer's side-by-side page); none by default. */
  taskHref?: ((task: string) => string) | undefined;
  /** The viewer's order: the task table right under the heading, the charts folded away below the cards. */
  tableFirst?: boolean | undefined;
  /** Draw the charts (default); the viewer leaves them out until asked, a 10,000-trial job has thousands of marks. */
  charts?: boolean | undefined;
  /** Which comparison the section belongs to, in its heading, when a report has several (`analyze` with 3+ arms). */
  title?: string | undefined;
}

/** One configuration: summary cards, the per-task chart, the Δ histogram, time/token strips and the task table. */
export function configSection(config: ConfigReport, index: number, options: StatsOptions = {}): string {
  const { summary } = config;
  const parts: string[] = [];
  parts.push(`<section class="config" id="config-${index}">`);
  const title = options.title ?? '';
  parts.push(`<h2>${escapeHtml(title ? `${title} · ${config.label}` : config.label)}</h2>`);
  if (options.tableFirst) parts.push(taskTable(config, options));
  parts.push('<div class="cards">');
  for (const { arm, color } of pairOf(config)) {
    const armSummary = summary.arms[arm];
    const value = armSummary ? formatPercent(armSummary.passRate) : 'no data';
    const detail = armSummary
      ? `${armSummary.passRateCi ? `task-level 95% CI ${formatBound(armSummary.passRateCi.low)}–${formatBound(armSummary.passRateCi.high)}%` : 'one task: no CI'} · ${armSummary.tasks} tasks · ${armSummary.trials} trials`
      : '';
    parts.push(card(`Pass rate, ${armLabel(arm).toLowerCase()}`, value, detail, color));
  }
  const deltaColor = summary.paired.deltaPp === undefined ? NEUTRAL : summary.paired.deltaPp < 0 ? WORSE : BETTER;
  parts.push(
    card(
      comparisonWords(summary.comparison).delta,
      formatDeltaPp(summary.paired.deltaPp),
      `${summary.paired.deltaPpCi ? `${formatDeltaInterval(summary.paired.deltaPpCi)} (bootstrap over tasks) · ` : ''}over ${summary.paired.tasks} paired tasks`,
      deltaColor,
    ),
  );
  parts.push(card('Normalized gain g', formatGain(summary.paired.gain), 'on the aggregate pass rates', deltaColor));
  if (summary.aa)
    parts.push(
      card(
        'A/A: |Δ| from noise alone',
        `${summary.aa.floorPp.toFixed(1)} pp`,
        `95th percentile over ${summary.aa.pairs} tasks, max ${summary.aa.maxPp.toFixed(1)} pp (analyze --noise-from)`,
        NEUTRAL,
      ),
    );
  parts.push(
    card(
      'Tasks where skills hurt',
      `${summary.negativeDeltaTasks.length} of ${summary.paired.tasks}`,
      `${summary.significantlyWorseTasks} significantly, ${summary.significantlyBetterTasks} significantly better (${correctionRule(summary.correction)})`,
      summary.negativeDeltaTasks.length > 0 ? WORSE : NEUTRAL,
    ),
  );
  parts.push(
    card(
      'Skill activation',
      summary.skillActivation ? formatPercent(summary.skillActivation.rate) : 'n/a',
      summary.skillActivation
        ? `${summary.skillActivation.activated} of ${summary.skillActivation.reported} reporting trials`
        : 'not reported by the agent',
      NEUTRAL,
    ),
  );
  parts.push('</div>');
  const charts = options.charts === false ? [] : chartFigures(config);
  if (options.tableFirst) parts.push(charts.join('\n'));
  else parts.push(...charts, taskTable(config, options));
  parts.push('<ul class="facts">');
  for (const [label, value] of summaryFacts(config))
    parts.push(`<li><b>${escapeHtml(label)}:</b> ${escapeHtml(value)}</li>`);
  parts.push('</ul>');
  parts.push('</section>');
  return parts.join('\n');
}

/** The per-task chart, the Δ histogram, and the time and token strips of the sampled trials. */
function chartFigures(config: ConfigReport): string[] {
  const charts: string[] = [];
  charts.push(figure('Pass rate per task, with Wilson 95% intervals', passRateChart(config)));
  charts.push(figure('Distribution of per-task Δ (percentage points)', deltaHistogram(config)));
  const durations = sampleValues(config, (sample) => sample.durationMs);
  if (durations)
    charts.push(
      figure(
        'Time per trial (sample of counted trials)',
        stripChart(durations, 'time', formatDurationMs, durationUnit),
      ),
    );
  const tokens = sampleValues(config, (sample) => sample.tokens);
  if (tokens)
    charts.push(
      figure(
        'Tokens per trial (input + output, sample of counted trials)',
        stripChart(tokens, 'tokens', formatCount, () => ({ size: 1, format: formatCount })),
      ),
    );
  return charts;
}

function card(title: string, value: string, detail: string, color: string): string {
  return `<div class="card" style="border-top-color:${color}"><div class="card-title">${escapeHtml(title)}</div><div class="card-value">${escapeHtml(value)}</div><div class="card-detail">${escapeHtml(detail)}</div></div>`;
}

function figure(caption: string, svg: string): string {
  return `<figure>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function legend(config: ConfigReport, x: number, y: number): string {
  return pairOf(config)
    .map(({ arm, color }, index) => {
      const left = x + index * 130;
      return `<g class="legend"><circle cx="${left}" cy="${y}" r="5" fill="${color}"/><text x="${left + 10}" y="${y + 4}">${escapeHtml(armLabel(arm))}</text></g>`;
    })
    .join('');
}

/** Dumbbell chart: per task, both arms' pass rates as dots with Wilson whiskers, Δ written at the right. */
function passRateChart(config: ConfigReport): string {
  const rowHeight = 30;
  const labelWidth = Math.min(280, Math.max(90, 7.2 * Math.max(...config.tasks.map((row) => row.task.length), 4)));
  const deltaWidth = 90;
  const top = 34;
  const plotLeft = labelWidth + 16;
  const plotWidth = CHART_WIDTH - plotLeft - deltaWidth - 10;
  const height = top + rowHeight * config.tasks.length + 28;
  const x = (rate: number): number => plotLeft + rate * plotWidth;
  const { baseline, treatment } = config.summary.comparison;
  const parts: string[] = [];
  parts.push(svgOpen('pass-rates', height, `Pass rate per task for ${config.label}`));
  parts.push(legend(config, plotLeft, 14));
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line class="grid" x1="${x(tick)}" x2="${x(tick)}" y1="${top - 6}" y2="${height - 24}"/>`);
    parts.push(`<text class="tick" x="${x(tick)}" y="${height - 8}" text-anchor="middle">${tick * 100}%</text>`);
    // A long chart scrolls: label its axis at the top too.
    if (config.tasks.length > 12 && tick > 0 && tick < 1)
      parts.push(`<text class="tick" x="${x(tick)}" y="${top - 10}" text-anchor="middle">${tick * 100}%</text>`);
  }
  parts.push(`<text class="tick" x="${CHART_WIDTH - 10}" y="14" text-anchor="end">Δ</text>`);
  config.tasks.forEach((row, index) => {
    const center = top + index * rowHeight + rowHeight / 2;
    const name = row.task.length > 40 ? `${row.task.slice(0, 39)}…` : row.task;
    parts.push(`<g class="task-row" data-task="${escapeHtml(row.task)}">`);
    parts.push(
      `<title>${escapeHtml(`${row.task}: ${armLabel(baseline)} ${formatArmRate(row.arms[baseline])}; ${armLabel(treatment)} ${formatArmRate(row.arms[treatment])}; ${formatVerdict(row, config.summary.correction, config.summary.comparison)}`)}</title>`,
    );
    if (index % 2 === 0)
      parts.push(
        `<rect class="band" x="0" y="${center - rowHeight / 2}" width="${CHART_WIDTH}" height="${rowHeight}"/>`,
      );
    parts.push(`<text class="label" x="${labelWidth}" y="${center + 4}" text-anchor="end">${escapeHtml(name)}</text>`);
    pairOf(config).forEach(({ arm, color }, armIndex) => {
      const stats = row.arms[arm];
      const y = center + (armIndex === 0 ? -5 : 5);
      if (!stats) {
        parts.push(
          `<text class="missing" x="${plotLeft + 4}" y="${y + 3}">no ${escapeHtml(armLabel(arm).toLowerCase())} data</text>`,
        );
        return;
      }
      const low = x(stats.passRateCi.low);
      const high = x(stats.passRateCi.high);
      parts.push(
        `<g class="mark" data-arm="${arm}"><line x1="${low}" x2="${high}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>` +
          `<line x1="${low}" x2="${low}" y1="${y - 3}" y2="${y + 3}" stroke="${color}" stroke-width="2"/>` +
          `<line x1="${high}" x2="${high}" y1="${y - 3}" y2="${y + 3}" stroke="${color}" stroke-width="2"/>` +
          `<circle cx="${x(stats.passRate)}" cy="${y}" r="5" fill="${color}" stroke="#fff" stroke-width="1.5"/></g>`,
      );
    });
    const deltaColor =
      row.deltaPp === undefined ? NEUTRAL : row.deltaPp < 0 ? WORSE : row.deltaPp > 0 ? BETTER : NEUTRAL;
    parts.push(
      `<text class="delta" x="${CHART_WIDTH - 10}" y="${center + 4}" text-anchor="end" fill="${deltaColor}">${escapeHtml(formatDeltaPp(row.deltaPp))}</text>`,
    );
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Histogram of per-task Δ in 10-point bins from −100 to +100; bars below zero in red. */
function deltaHistogram(config: ConfigReport): string {
  const deltas = config.tasks.map((row) => row.deltaPp).filter((value) => value !== undefined);
  const height = 220;
  const left = 50;
  const right = 20;
  const top = 16;
  const bottom = 40;
  const plotWidth = CHART_WIDTH - left - right;
  const plotHeight = height - top - bottom;
  const bins = new Array<number>(20).fill(0);
  for (const delta of deltas) bins[Math.min(19, Math.max(0, Math.floor((delta + 100) / 10)))]!++;
  const maxCount = Math.max(1, ...bins);
  const x = (pp: number): number => left + ((pp + 100) / 200) * plotWidth;
  const y = (count: number): number => top + plotHeight - (count / maxCount) * plotHeight;
  const parts: string[] = [svgOpen('delta-histogram', height, `Distribution of per-task delta for ${config.label}`)];
  if (deltas.length === 0) {
    parts.push(
      `<text class="missing" x="${CHART_WIDTH / 2}" y="${height / 2}" text-anchor="middle">No task has both arms: no Δ to plot.</text></svg>`,
    );
    return parts.join('');
  }
  for (const count of niceTicks(maxCount, 4)) {
    if (!Number.isInteger(count)) continue;
    parts.push(`<line class="grid" x1="${left}" x2="${CHART_WIDTH - right}" y1="${y(count)}" y2="${y(count)}"/>`);
    parts.push(`<text class="tick" x="${left - 6}" y="${y(count) + 4}" text-anchor="end">${count}</text>`);
  }
  bins.forEach((count, bin) => {
    if (count === 0) return;
    const from = -100 + bin * 10;
    const color = from < 0 ? WORSE : from === 0 ? NEUTRAL : BETTER;
    const label = `${count} ${count === 1 ? 'task' : 'tasks'} with Δ in [${from}, ${from + 10}${bin === 19 ? ']' : ')'} pp`;
    parts.push(
      `<rect class="bar" x="${x(from) + 1}" y="${y(count)}" width="${x(from + 10) - x(from) - 2}" height="${y(0) - y(count)}" fill="${color}"><title>${escapeHtml(label)}</title></rect>`,
    );
  });
  for (const tick of [-100, -50, 0, 50, 100]) {
    parts.push(
      `<text class="tick" x="${x(tick)}" y="${height - bottom + 16}" text-anchor="middle">${tick > 0 ? '+' : ''}${tick}</text>`,
    );
  }
  parts.push(`<line class="zero" x1="${x(0)}" x2="${x(0)}" y1="${top - 4}" y2="${y(0)}"/>`);
  parts.push(`<line class="axis" x1="${left}" x2="${CHART_WIDTH - right}" y1="${y(0)}" y2="${y(0)}"/>`);
  parts.push(
    `<text class="tick" x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">Δ pass rate (percentage points): skills hurt ← 0 → skills help</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

/** Per arm of the pair (baseline first): the sampled values, absent when none. */
type ArmValues = Array<{ arm: Arm; color: string; list: number[] | undefined }>;

function sampleValues(config: ConfigReport, pick: (sample: TrialSample) => number | undefined): ArmValues | undefined {
  const values: ArmValues = pairOf(config).map(({ arm, color }) => {
    const list = (config.samples[arm] ?? []).map(pick).filter((value) => value !== undefined);
    return { arm, color, list: list.length > 0 ? list : undefined };
  });
  return values.some((value) => value.list) ? values : undefined;
}

/** One row per arm: jittered dots of the sampled trials over a box of the quartiles, median marked. */
function stripChart(
  values: ArmValues,
  name: string,
  format: (value: number) => string,
  unitFor: (max: number) => AxisUnit,
): string {
  const left = 110;
  const right = 24;
  const rowHeight = 70;
  const top = 12;
  const height = top + rowHeight * values.length + 34;
  const maxValue = Math.max(1, ...values.flatMap((value) => value.list ?? []));
  // Ticks are round numbers in the unit shown (whole minutes, not 50,000 ms as 0.8 min).
  const unit = unitFor(maxValue);
  const ticks = niceTicks(maxValue / unit.size, 6).map((tick) => tick * unit.size);
  const scaleMax = ticks[ticks.length - 1]!;
  const plotWidth = CHART_WIDTH - left - right;
  const x = (value: number): number => left + (value / scaleMax) * plotWidth;
  const formatTick = unit.format;
  const parts: string[] = [svgOpen(name, height, `${name} per trial`)];
  for (const tick of ticks) {
    parts.push(`<line class="grid" x1="${x(tick)}" x2="${x(tick)}" y1="${top}" y2="${height - 28}"/>`);
    parts.push(
      `<text class="tick" x="${x(tick)}" y="${height - 10}" text-anchor="middle">${escapeHtml(formatTick(tick))}</text>`,
    );
  }
  values.forEach(({ arm, color, list }, index) => {
    const center = top + index * rowHeight + rowHeight / 2;
    parts.push(
      `<text class="label" x="${left - 12}" y="${center + 4}" text-anchor="end">${escapeHtml(armLabel(arm))}</text>`,
    );
    if (!list) {
      parts.push(`<text class="missing" x="${left + 4}" y="${center + 4}">no data</text>`);
      return;
    }
    const sorted = [...list].sort((a, b) => a - b);
    const q1 = quantile(sorted, 0.25);
    const median = quantile(sorted, 0.5);
    const q3 = quantile(sorted, 0.75);
    parts.push(`<g class="mark" data-arm="${escapeHtml(arm)}">`);
    parts.push(
      `<rect class="box" x="${x(q1)}" y="${center - 16}" width="${Math.max(1, x(q3) - x(q1))}" height="32" fill="${color}" fill-opacity="0.12" stroke="${color}"/>`,
    );
    list.forEach((value, i) => {
      const jitter = (hash(i) - 0.5) * 26;
      parts.push(
        `<circle cx="${x(value).toFixed(1)}" cy="${(center + jitter).toFixed(1)}" r="2.2" fill="${color}" fill-opacity="0.45"/>`,
      );
    });
    parts.push(
      `<line class="median" x1="${x(median)}" x2="${x(median)}" y1="${center - 18}" y2="${center + 18}" stroke="${color}" stroke-width="3"/>`,
    );
    parts.push(
      `<title>${escapeHtml(`${armLabel(arm)}: median ${format(median)}, quartiles ${format(q1)}–${format(q3)}, ${list.length} sampled trials`)}</title>`,
    );
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

interface AxisUnit {
  /** Value of one unit, in the data's own unit (60,000 for minutes of milliseconds). */
  size: number;
  format: (value: number) => string;
}

/** One unit along the whole axis, chosen by its end: no "50.0 s … 2.5 min" mix. */
function durationUnit(maxMs: number): AxisUnit {
  if (maxMs >= 180_000) return { size: 60_000, format: (ms) => `${Number((ms / 60_000).toFixed(2))} min` };
  if (maxMs >= 2000) return { size: 1000, format: (ms) => `${Number((ms / 1000).toFixed(2))} s` };
  return { size: 1, format: (ms) => `${Math.round(ms)} ms` };
}

/** The per-task table: both arms' pass rates with Wilson intervals, Δ, g, verdict and mean times. */
export function taskTable(config: ConfigReport, options: StatsOptions = {}): string {
  const { baseline, treatment } = config.summary.comparison;
  const rows = (options.rows ?? config.tasks).map((row) => {
    const rowClass = row.negativeDelta ? ' class="worse"' : '';
    const cells = [
      options.taskHref
        ? `<a href="${escapeHtml(options.taskHref(row.task))}">${escapeHtml(row.task)}</a>`
        : escapeHtml(row.task),
      escapeHtml(formatArmRate(row.arms[baseline])),
      escapeHtml(formatArmRate(row.arms[treatment])),
      escapeHtml(formatDeltaPp(row.deltaPp)),
      escapeHtml(formatGain(row.gain)),
      escapeHtml(formatVerdict(row, config.summary.correction, config.summary.comparison)),
      escapeHtml(formatDurationMs(row.arms[baseline]?.meanDurationMs)),
      escapeHtml(formatDurationMs(row.arms[treatment]?.meanDurationMs)),
    ];
    const cellClass = (index: number): string =>
      index === 1 || index === 2 ? ' class="rate"' : index === 3 || index === 4 ? ' class="num"' : '';
    return `<tr${rowClass}>${cells.map((cell, index) => `<td${cellClass(index)}>${cell}</td>`).join('')}</tr>`;
  });
  return (
    `<table class="tasks"><thead><tr><th>Task</th><th>Pass Rate (${escapeHtml(armLabel(baseline))})</th><th>Pass Rate (${escapeHtml(armLabel(treatment))})</th><th>Δ</th><th>Normalized Gain</th><th>Verdict</th><th>Mean time (${escapeHtml(armLabel(baseline).toLowerCase())})</th><th>Mean time (${escapeHtml(armLabel(treatment).toLowerCase())})</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

export function errorsSection(report: AnalysisReport): string {
  const parts: string[] = [];
  if (report.errors.count > 0) {
    const treatment = report.errors.countedAsFailures
      ? 'counted as failures (--include-errors-as-failures)'
      : 'excluded from the rates';
    parts.push(`<section class="errors"><h2>Errored trials: ${report.errors.count}, ${escapeHtml(treatment)}</h2><ul>`);
    for (const trial of report.errors.trials.slice(0, 500)) {
      parts.push(
        `<li><code>${escapeHtml(trial.trial)}</code> — ${escapeHtml(trial.status)}${trial.message ? `: ${escapeHtml(trial.message)}` : ''}</li>`,
      );
    }
    if (report.errors.trials.length > 500)
      parts.push(`<li>… and ${report.errors.trials.length - 500} more (see --json)</li>`);
    parts.push('</ul></section>');
  }
  if (report.problems.length > 0) {
    parts.push(`<section class="errors"><h2>Skipped files: ${report.problems.length}</h2><ul>`);
    for (const problem of report.problems)
      parts.push(`<li><code>${escapeHtml(problem.file)}</code>: ${escapeHtml(problem.reason)}</li>`);
    parts.push('</ul></section>');
  }
  return parts.join('\n');
}

export function methodSection(report: AnalysisReport): string {
  return `<footer><h2>How to read this</h2><ul>
<li>A trial passes when its reward is at least ${report.options.passThreshold}. Rates never pool agents or models; a missing arm is “no data”, not 0%.</li>
<li>Per-task intervals are Wilson 95% score intervals; the configuration interval is task-level: ±1.96·sd(per-task pass rates)/√tasks.</li>
<li>Normalized gain g = (p<sub>with</sub> − p<sub>without</sub>) / (1 − p<sub>without</sub>); undefined (—) when the baseline is 100%.</li>
<li>Verdicts come from a two-sided Fisher exact test per task, ${escapeHtml(correctionMethod(report.options.correction))}; significant when ${escapeHtml(correctionRule(report.options.correction))}.</li>
<li>The interval of the aggregate Δ is a percentile bootstrap over tasks (tasks resampled with replacement, ${report.options.bootstrap.resamples} resamples, seed ${report.options.bootstrap.seed}).</li>
<li>Infra and verifier errors are ${report.errors.countedAsFailures ? 'counted as failures' : 'left out of the rates'} and listed above.</li>
</ul></footer>`;
}

function svgOpen(name: string, height: number, label: string): string {
  return `<svg class="chart" data-chart="${escapeHtml(name)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(label)}">`;
}

/** Round tick values from 0 to at least `max`: steps of 1, 2 or 5 × 10ⁿ. */
export function niceTicks(max: number, count: number): number[] {
  const rough = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step =
    [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let value = 0; value < max + step; value += step) {
    ticks.push(Number(value.toPrecision(12)));
    if (value >= max) break;
  }
  return ticks;
}

function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** Deterministic jitter in [0, 1). */
function hash(index: number): number {
  let value = Math.imul(index + 1, 0x9e3779b1);
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  return (value >>> 0) / 4294967296;
}

export const STATS_STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #0f172a; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 12px; padding-top: 12px; border-top: 1px solid #e2e8f0; }
.meta { color: #475569; margin: 2px 0; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #f1f5f9; padding: 1px 4px; border-radius: 3px; }
nav ul { padding-left: 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 12px 0 18px; }
.card { border: 1px solid #e2e8f0; border-top: 4px solid #64748b; border-radius: 6px; padding: 8px 10px; }
.card-title { color: #475569; font-size: 12px; }
.card-value { font-size: 22px; font-weight: 600; }
.card-detail { color: #64748b; font-size: 11px; }
figure { margin: 18px 0; overflow-x: auto; }
figcaption { color: #475569; font-size: 13px; margin-top: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #0f172a; }
svg .tick { fill: #64748b; font-size: 11px; }
svg .missing { fill: #94a3b8; font-style: italic; font-size: 11px; }
svg .delta { font-weight: 600; }
svg .grid { stroke: #e2e8f0; }
svg .axis { stroke: #94a3b8; }
svg .zero { stroke: #0f172a; stroke-dasharray: 3 3; }
svg .band { fill: #f8fafc; }
table.tasks { border-collapse: collapse; width: 100%; margin: 12px 0; font-size: 13px; }
table.tasks th, table.tasks td { border-bottom: 1px solid #e2e8f0; padding: 5px 8px; text-align: left; vertical-align: top; }
table.tasks td.num { text-align: right; white-space: nowrap; }
table.tasks td.rate { white-space: nowrap; }
table.tasks tr.worse td { background: #fef2f2; }
.facts { color: #334155; }
.errors li { font-size: 13px; }
footer { color: #475569; font-size: 13px; margin-top: 32px; }
`;
