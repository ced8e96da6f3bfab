/** The viewer's own styles; the statistics bring theirs (STATS_STYLE, src/analytics/render/html-stats.ts). */
export const VIEW_STYLE = `
body { max-width: 1280px; }
a { color: #1d4ed8; }
.crumbs { margin: 0 0 12px; color: #475569; }
.crumbs a { text-decoration: none; }
.loading, .empty { color: #64748b; font-style: italic; }
.error-box { background: #fef2f2; border: 1px solid #fecaca; padding: 8px 12px; border-radius: 6px; }
table.list { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
table.list th, table.list td { border-bottom: 1px solid #e2e8f0; padding: 4px 8px; text-align: left; vertical-align: top; }
table.list th { background: #f8fafc; position: sticky; top: 0; }
table.list td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 600; background: #e2e8f0; color: #0f172a; white-space: nowrap; }
.s-passed { background: #dcfce7; color: #166534; }
.s-failed { background: #fee2e2; color: #991b1b; }
.s-running { background: #dbeafe; color: #1e40af; }
.s-agent_timeout, .s-agent_error { background: #fef3c7; color: #92400e; }
.s-infra_error, .s-verifier_error { background: #f3e8ff; color: #6b21a8; }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 10px 0; padding: 8px; background: #f8fafc; border-radius: 6px; }
.filters label { font-size: 12px; color: #475569; }
.filters select, .filters input { font: inherit; font-size: 13px; margin-left: 4px; }
.pager { display: flex; gap: 8px; align-items: center; font-size: 13px; }
.facts-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 10px; margin: 12px 0; }
.panel { border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px 10px; font-size: 13px; }
.panel h3 { font-size: 13px; margin: 0 0 6px; color: #334155; }
.panel table { border-collapse: collapse; width: 100%; }
.panel td { padding: 1px 4px; vertical-align: top; }
.panel td:first-child { color: #64748b; white-space: nowrap; }
pre { white-space: pre-wrap; word-break: break-word; background: #f8fafc; border: 1px solid #e2e8f0; border-radius: 4px; padding: 6px 8px; margin: 4px 0; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; max-height: 420px; overflow: auto; }
.clip-note { font-size: 12px; color: #92400e; }
ol.timeline { list-style: none; padding: 0; margin: 8px 0; }
ol.timeline li.step { border-left: 3px solid #e2e8f0; padding: 2px 8px; margin: 0; content-visibility: auto; contain-intrinsic-size: auto 24px; }
ol.timeline li.step.k-command, ol.timeline li.step.k-tool_call { border-left-color: #94a3b8; }
ol.timeline li.step.k-message { border-left-color: #2563eb; }
ol.timeline li.step.k-phase { color: #64748b; font-size: 12px; }
ol.timeline li.step.skill { border-left-color: #16a34a; background: #f0fdf4; }
.step-head { display: flex; gap: 8px; align-items: baseline; cursor: pointer; font-size: 13px; }
.step-head .t { color: #94a3b8; font-size: 11px; min-width: 56px; text-align: right; font-variant-numeric: tabular-nums; }
.step-head .title { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; }
.step-head .meta { color: #64748b; font-size: 11px; white-space: nowrap; }
.skill-mark { background: #16a34a; color: #fff; }
.exit-bad { color: #b91c1c; font-weight: 600; }
table.sbs { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 12px; }
table.sbs td, table.sbs th { border-bottom: 1px solid #e2e8f0; padding: 3px 6px; vertical-align: top; }
table.sbs td.cell { font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
table.sbs td.idx { width: 44px; color: #94a3b8; text-align: right; }
table.sbs tr.only-a td.a, table.sbs tr.only-a td.a-meta { background: #eff6ff; }
table.sbs tr.only-b td.b, table.sbs tr.only-b td.b-meta { background: #fff7ed; }
table.sbs tr.divergence td { border-top: 3px solid #dc2626; }
.divergence-mark { color: #dc2626; font-weight: 600; }
table.sbs td.a-meta, table.sbs td.b-meta { width: 120px; color: #64748b; }
ol.episode { list-style: none; padding: 0; }
li.episode-step { border-left: 3px solid #2563eb; padding: 2px 10px; margin: 0 0 12px; }
li.episode-step h3 { font-size: 14px; margin: 4px 0; }
.episode-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
img.shot { max-width: 100%; border: 1px solid #cbd5e1; border-radius: 4px; }
.live { font-size: 12px; color: #1e40af; }
`;
