import type { AnalysisReport } from '../report.js';
import { configSection, errorsSection, escapeHtml, methodSection, STATS_STYLE } from './html-stats.js';

/**
 * One self-contained HTML file: inline CSS and server-drawn inline SVG, no script, no network. The sections
 * come from html-stats.ts, which the viewer (`skill-eval view`) renders too.
 */

export { escapeHtml, niceTicks } from './html-stats.js';

export function renderHtml(report: AnalysisReport): string {
  const { inputs } = report;
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
  if (report.configs.length > 1) {
    body.push('<nav><ul>');
    for (const [index, config] of report.configs.entries()) {
      body.push(`<li><a href="#config-${index}">${escapeHtml(config.label)}</a></li>`);
    }
    body.push('</ul></nav>');
  }
  for (const [index, config] of report.configs.entries()) body.push(configSection(config, index));
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
