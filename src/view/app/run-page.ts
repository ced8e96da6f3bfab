import { useState } from 'preact/hooks';
import type { RunListEntry, RunView, SampleRow } from '../model.js';
import { live, loadRun, runRawUrl } from './data.js';
import { Crumbs, FileList, factTable, html, Loading, ms, sampleHref, useLoad, usePoll } from './ui.js';

/**
 * One benchmark target run: its score and how sure it is, its counts, the per-group breakdown, every sample (each
 * browser episode links to its evidence) and its raw files. While it is being written (no metrics.json yet) it
 * reloads itself.
 */

type Json = Record<string, unknown>;

/** Sample rows drawn at first; the rest on request. */
const SAMPLE_PAGE = 500;

export function RunPage({ runKey }: { runKey: string }) {
  const [tick, setTick] = useState(0);
  const { value, error } = useLoad<RunView>(() => loadRun(runKey), [runKey, tick]);
  usePoll(live && value !== undefined && !value.entry.evaluated, 2000, () => setTick((n) => n + 1), []);
  if (!value) return html`<${Loading} error=${error} />`;
  const { entry } = value;
  const raw = (path: string): string => runRawUrl(runKey, path);
  return html`<${Crumbs}>run ${runKey}</${Crumbs}>
    <header><h1>${entry.target ?? runKey}</h1>
      <p class="meta">${[entry.model, entry.mode, entry.driver, entry.startedAt?.replace('T', ' ').slice(0, 19)].filter(Boolean).join(' · ')}
        ${live && !entry.evaluated ? html` · <span class="live">live</span>` : null}</p>
      ${entry.failure ? html`<p class="error-box" data-failure>${entry.failure}</p>` : null}</header>
    <${RunFacts} view=${value} />
    <${Breakdown} breakdown=${value.metrics?.breakdown as Record<string, Json> | undefined} />
    <${Samples} view=${value} />
    <h2>Raw files</h2>
    <${FileList} files=${value.files} href=${raw} />`;
}

export function scoreText(entry: Pick<RunListEntry, 'score' | 'primaryMetric' | 'evaluated'>): string {
  if (!entry.evaluated) return 'not evaluated';
  return entry.score === undefined ? 'no score' : `${entry.primaryMetric ?? 'score'} ${entry.score}`;
}

function RunFacts({ view }: { view: RunView }) {
  const metrics = (view.metrics ?? {}) as Json;
  const ci = metrics.ci95 as { low: number; high: number } | undefined;
  const rollout = (view.rollout ?? {}) as Json;
  return html`<div class="facts-grid">
    <div class="panel" data-panel="score"><h3>Score</h3>${factTable([
      [
        metrics.primary_metric ? String(metrics.primary_metric) : 'score',
        metrics.score ?? (view.entry.evaluated ? 'none' : 'not evaluated'),
      ],
      ['95% interval (Wilson)', ci ? `${ci.low.toFixed(3)} – ${ci.high.toFixed(3)}` : undefined],
      ...Object.entries((metrics.metrics ?? {}) as Json).map(([k, v]): [string, unknown] => [k, v]),
      ['kind', metrics.kind],
      ['range', metrics.range],
      ['source', metrics.scoreSource],
    ])}</div>
    <div class="panel" data-panel="counts"><h3>Counts</h3>${factTable([
      ['samples', view.entry.samples],
      ...Object.entries((rollout.counts ?? {}) as Json).map(([k, v]): [string, unknown] => [
        `rollout ${k.replace(/_/g, ' ')}`,
        v,
      ]),
      ...Object.entries((metrics.counts ?? {}) as Json).map(([k, v]): [string, unknown] => [
        `evaluated ${k.replace(/_/g, ' ')}`,
        v,
      ]),
      ['unreadable lines', view.badLines || undefined],
    ])}</div>
    <div class="panel" data-panel="run"><h3>Run</h3>${factTable([
      ['run id', view.entry.runId],
      ['seeds', rollout.seeds],
      ['limit', rollout.limit],
      ['duration', ms(rollout.duration_ms as number | undefined)],
      ['contract', (rollout.contract as Json | undefined)?.file],
      ['evaluated at', metrics.evaluated_at],
    ])}${[...((rollout.notes as string[] | undefined) ?? []), ...((metrics.notes as string[] | undefined) ?? [])].map((note) => html`<div class="card-detail">${note}</div>`)}</div>
  </div>`;
}

function Breakdown({ breakdown }: { breakdown: Record<string, Json> | undefined }) {
  if (!breakdown || Object.keys(breakdown).length === 0) return null;
  const columns = [...new Set(Object.values(breakdown).flatMap((row) => Object.keys(row)))];
  return html`<h2>Breakdown</h2>
    <table class="list breakdown"><thead><tr><th>Group</th>${columns.map((c) => html`<th>${c.replace(/_/g, ' ')}</th>`)}</tr></thead>
    <tbody>${Object.entries(breakdown).map(([group, row]) => html`<tr data-group=${group}><td>${group}</td>${columns.map((c) => html`<td class="num" data-column=${c}>${row[c] === undefined || row[c] === null ? '—' : String(row[c])}</td>`)}</tr>`)}</tbody></table>`;
}

function Samples({ view }: { view: RunView }) {
  const [shown, setShown] = useState(SAMPLE_PAGE);
  const rows = view.samples.slice(0, shown);
  const episodes = view.samples.some((row) => row.evidenceDir !== undefined || row.steps !== undefined);
  return html`<h2>Samples: ${view.entry.samples}</h2>
    ${view.omittedSamples > 0 ? html`<p class="clip-note">${view.omittedSamples} more samples are in samples.jsonl</p>` : null}
    <table class="list samples"><thead><tr><th>#</th><th>Id</th>${episodes ? html`<th>Group</th><th>Seed</th><th>Steps</th><th>Ended by</th>` : null}<th>Reward</th><th>Outcome</th><th>Duration</th><th>Completion</th></tr></thead>
    <tbody>${rows.map((row) => html`<${SampleLine} key=${row.line} runKey=${view.entry.key} row=${row} episodes=${episodes} />`)}</tbody></table>
    ${view.samples.length > shown ? html`<p class="pager">${shown} of ${view.samples.length} shown <button name="more" onClick=${() => setShown(view.samples.length)}>show all</button></p>` : null}`;
}

function outcome(row: SampleRow): string {
  if (row.errorCode) return row.errorCode;
  if (row.success !== undefined) return row.success ? 'success' : 'failure';
  if (row.correct !== undefined) return row.correct ? 'correct' : 'wrong';
  return '—';
}

function SampleLine({ runKey, row, episodes }: { runKey: string; row: SampleRow; episodes: boolean }) {
  const status = row.errorCode ? 'infra_error' : row.success === true || row.correct === true ? 'passed' : 'failed';
  return html`<tr data-line=${row.line}>
    <td class="num"><a href=${sampleHref(runKey, row.line)}>${row.line}</a></td>
    <td>${row.id ?? '—'}</td>
    ${episodes ? html`<td>${row.group ?? '—'}</td><td class="num">${row.seed ?? '—'}</td><td class="num">${row.steps ?? '—'}</td><td>${row.endedBy ?? '—'}</td>` : null}
    <td class="num" data-reward>${row.reward ?? '—'}</td>
    <td><span class=${`badge s-${status}`}>${outcome(row)}</span>${row.error ? html` <span class="card-detail">${row.error.slice(0, 200)}</span>` : null}</td>
    <td class="num">${ms(row.durationMs)}</td>
    <td><code>${row.completion?.slice(0, 120) ?? ''}</code>${row.completion && row.completion.length > 120 ? '…' : ''}</td>
  </tr>`;
}
