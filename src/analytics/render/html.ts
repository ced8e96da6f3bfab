import { comparisonWords } from '../format.js';
import type { AnalysisReport } from '../report.js';
import { configSection, errorsSection, escapeHtml, methodSection, STATS_STYLE } from './html-stats.js';

/**
 * One self-contained HTML file: inline CSS and server-drawn inline SVG, no script, no network. The sections
 * come from html-stats.ts, which the viewer (`skill-eval view`) renders too.
 */

export { escapeHtml, niceTicks } from './html-stats.js';

/** One report, or one per comparison (`analyze` with more than two arms): each comparison's sections in turn. */
export function renderHtml(reports: AnalysisReport | readonly AnalysisReport[]): string {
  const list: readonly AnalysisReport[] = Array.isArray(reports) ? reports : [reports as AnalysisReport];
  const report = list[0]!;
  const { inputs } = report;
  const sections = list.flatMap((each) =>
    each.configs.map((config) => ({ config, title: list.length > 1 ? comparisonWords(each.comparison).title : '' })),
  );
  const body: string[] = [];
  body.push('<header>');
  body.push('<h1>skill-eval analysis</h1>');
  body.push(
    `<p class="meta">${inputs.trials} trials from ${inputs.filesRead} files · pass = reward ≥ ${report.options.passThreshold} · ` +
      `${report.configs.length} agent/model ${report.configs.length === 1 ? 'configuration' : 'configurations'} · generated ${escapeHtml(report.generatedAt)}</p>`,
  );
  body.push(
    `<p class="meta">Searched: ${report.inputs.searched.map((dir) => `<code>${escapeHtml(dir)}</code>`).join(', ')}</p>`,
  );
  body.push('</header>');
  if (sections.length > 1) {
    body.push('<nav><ul>');
    for (const [index, { config, title }] of sections.entries()) {
      body.push(
        `<li><a href="#config-${index}">${escapeHtml(title ? `${title}: ${config.label}` : config.label)}</a></li>`,
      );
    }
    body.push('</ul></nav>');
  }
  for (const [index, { config, title }] of sections.entries()) body.push(configSection(config, index, { title }));
  body.push(errorsSection(report));
  body.push(methodSection(report));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>skill-eval analysis</title>
<style>${STATS_STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
