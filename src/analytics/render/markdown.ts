import {
  armLabel,
  correctionMethod,
  formatArmRate,
  formatDeltaPp,
  formatGain,
  formatVerdict,
  perArm,
  summaryFacts,
} from '../format.js';
import type { AnalysisReport, ExcludedTrial } from '../report.js';

/** GitHub-flavoured Markdown: the terminal's tables, for PR comments and job summaries. */
export function renderMarkdown(report: AnalysisReport): string {
  const lines: string[] = ['# skill-eval analysis', ''];
  const { inputs } = report;
  lines.push(
    `${inputs.trials} trials from ${inputs.filesRead} files; pass = reward ≥ ${report.options.passThreshold}; ` +
      `pass rates with Wilson 95% intervals; verdicts from a two-sided Fisher exact test per task, ` +
      `${correctionMethod(report.options.correction)}; Δ's 95% interval from a bootstrap over tasks ` +
      `(${report.options.bootstrap.resamples} resamples, seed ${report.options.bootstrap.seed}).`,
  );
  for (const config of report.configs) {
    lines.push('', `## ${escapeMarkdown(config.label)}`, '');
    lines.push(
      `| Task | Pass Rate (${armLabel(config.summary.comparison.baseline)}) | Pass Rate (${armLabel(config.summary.comparison.treatment)}) | Δ | Normalized Gain | Verdict |`,
    );
    lines.push('| --- | --- | --- | ---: | ---: | --- |');
    for (const row of config.tasks) {
      const delta = formatDeltaPp(row.deltaPp) + (row.negativeDelta ? ' ⚠️' : '');
      lines.push(
        `| ${escapeMarkdown(row.task)} | ${formatArmRate(row.arms[config.summary.comparison.baseline])} | ${formatArmRate(row.arms[config.summary.comparison.treatment])} | ${delta} | ${formatGain(row.gain)} | ${formatVerdict(row, config.summary.correction, config.summary.comparison)} |`,
      );
    }
    lines.push('');
    for (const [label, value] of summaryFacts(config)) lines.push(`- **${label}:** ${escapeMarkdown(value)}`);
  }
  if (report.errors.count > 0) {
    const treatment = report.errors.countedAsFailures ? 'counted as failures' : 'excluded from the rates';
    lines.push('', `## Errored trials (${report.errors.count}, ${treatment})`, '');
    for (const trial of report.errors.trials)
      lines.push(`- \`${trial.trial}\` — ${trial.status}${trial.message ? `: ${escapeMarkdown(trial.message)}` : ''}`);
  }
  const { contamination, tamper } = report;
  if (contamination.count > 0) {
    const treatment = contamination.included ? 'counted in the rates' : 'excluded from the rates';
    lines.push('', `## Contaminated no-skills trials (${contamination.count}, ${treatment})`, '');
    for (const trial of contamination.trials) lines.push(flaggedLine(trial));
  }
  if (tamper.count > 0) {
    lines.push('', `## Trials that touched verifier territory (${tamper.count}: ${perArm(tamper)})`, '');
    for (const trial of tamper.trials) lines.push(flaggedLine(trial));
  }
  if (report.reused.count > 0)
    lines.push(
      '',
      `Reused trials (eval --baseline-from): ${report.reused.count} (${perArm(report.reused)}), from ${report.reused.fromJobs.map((job) => `\`${job}\``).join(', ')}`,
    );
  for (const { jobId, models } of report.modelsServed ?? [])
    lines.push('', `Job \`${jobId}\`: calls were served by different model ids: ${models.join(', ')}`);
  if (report.problems.length > 0) {
    lines.push('', `## Skipped files (${report.problems.length})`, '');
    for (const problem of report.problems) lines.push(`- \`${problem.file}\`: ${escapeMarkdown(problem.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}

function flaggedLine(trial: ExcludedTrial): string {
  return `- \`${trial.trial}\` (${trial.arm})${trial.message ? `: ${escapeMarkdown(trial.message)}` : ''}`;
}

/** Keeps user text (task names, messages) from breaking a table or turning into markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (character) => `\\${character}`).replace(/\r?\n/g, ' ');
}
