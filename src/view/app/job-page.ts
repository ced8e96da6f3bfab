import { useMemo, useState } from 'preact/hooks';
import { plural } from '../../analytics/format.js';
import { configSection, errorsSection, methodSection } from '../../analytics/render/html-stats.js';
import type { TaskRow } from '../../analytics/report.js';
import type { JobView, TrialRow } from '../model.js';
import { jobVersion, live, loadJob } from './data.js';
import {
  Crumbs,
  compareHref,
  configOf,
  count,
  html,
  jobHref,
  Loading,
  ms,
  StatusBadge,
  trialHref,
  useLoad,
  usePoll,
} from './ui.js';

/**
 * A job: its statistics per agent/model (drawn by the same html-stats module as `analyze --html`), filtered and
 * sorted, the errors apart, and every trial in pages. While the job runs the page re-reads it when its version moves.
 */

export const PAGE_SIZE = 100;
const ERRORS = new Set(['infra_error', 'verifier_error']);
export const SORTS: Record<string, (a: TaskRow, b: TaskRow) => number> = {
  task: (a, b) => a.task.localeCompare(b.task),
  delta: (a, b) => (a.deltaPp ?? Number.POSITIVE_INFINITY) - (b.deltaPp ?? Number.POSITIVE_INFINITY),
  gain: (a, b) => (a.gain ?? Number.POSITIVE_INFINITY) - (b.gain ?? Number.POSITIVE_INFINITY),
  'with-skills': (a, b) => (a.arms['with-skills']?.passRate ?? 2) - (b.arms['with-skills']?.passRate ?? 2),
  'no-skills': (a, b) => (a.arms['no-skills']?.passRate ?? 2) - (b.arms['no-skills']?.passRate ?? 2),
  p: (a, b) => (a.significance.adjustedPValue ?? 2) - (b.significance.adjustedPValue ?? 2),
};

export interface Filters {
  config?: string | undefined;
  task?: string | undefined;
  status?: string | undefined;
  sort?: string | undefined;
  page?: string | undefined;
}

function statusMatches(row: TrialRow, status: string | undefined): boolean {
  if (!status) return true;
  if (status === 'errors') return ERRORS.has(row.status);
  return row.status === status;
}

export function JobPage({ jobKey, filters }: { jobKey: string; filters: Filters }) {
  const [version, setVersion] = useState<string | undefined>(undefined);
  const { value, error } = useLoad<JobView>(() => loadJob(jobKey), [jobKey, version]);
  usePoll(
    live && value !== undefined && !value.entry.complete,
    1500,
    () => {
      jobVersion(jobKey).then(
        (next) => next !== value?.version && setVersion(next),
        () => undefined,
      );
    },
    [value?.version],
  );
  if (!value) return html`<${Loading} error=${error} />`;
  const setFilter = (change: Filters): void => {
    location.hash = jobHref(jobKey, { ...filters, page: undefined, ...change } as Record<string, string | undefined>);
  };
  return html`<${Crumbs}>${jobKey}</${Crumbs}>
    <${JobHeader} view=${value} />
    <${FilterBar} view=${value} filters=${filters} setFilter=${setFilter} />
    <${Grid} view=${value} filters=${filters} />
    <${TrialList} view=${value} filters=${filters} setFilter=${setFilter} />`;
}

function JobHeader({ view }: { view: JobView }) {
  const { entry } = view;
  return html`<header><h1>${entry.jobId ?? entry.key}</h1>
    <p class="meta">${entry.dir}</p>
    <p class="meta">${entry.createdAt ?? ''} · ${plural(entry.tasks.length, 'task')} · ${entry.configs.join(', ')} · arms ${entry.arms.join(', ')} ·
      ${entry.finished}${entry.planned !== undefined ? ` of ${entry.planned}` : ''} trials finished${entry.running > 0 ? html`, <span class="badge s-running">${entry.running} running</span>` : ''}
      ${entry.complete ? '' : live && entry.kind === 'job' ? html` · <span class="live">live: updates as the job runs</span>` : ''}</p></header>`;
}

function FilterBar({ view, filters, setFilter }: { view: JobView; filters: Filters; setFilter: (f: Filters) => void }) {
  const configs = view.report.configs.map((config) => config.label);
  const statuses = [...new Set(view.trials.map((row) => row.status))].sort();
  return html`<div class="filters">
    <label>Agent / model <select name="config" value=${filters.config ?? ''} onChange=${(e: Event) => setFilter({ config: (e.target as HTMLSelectElement).value })}>
      <option value="">all</option>${configs.map((label) => html`<option value=${label}>${label}</option>`)}</select></label>
    <label>Task <input name="task" type="search" placeholder="filter" value=${filters.task ?? ''} onChange=${(e: Event) => setFilter({ task: (e.target as HTMLInputElement).value })} /></label>
    <label>Status <select name="status" value=${filters.status ?? ''} onChange=${(e: Event) => setFilter({ status: (e.target as HTMLSelectElement).value })}>
      <option value="">all</option><option value="errors">errors (infra, verifier)</option>${statuses.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
    <label>Sort tasks by <select name="sort" value=${filters.sort ?? 'task'} onChange=${(e: Event) => setFilter({ sort: (e.target as HTMLSelectElement).value })}>
      ${Object.keys(SORTS).map((key) => html`<option value=${key}>${key === 'p' ? 'corrected p' : key === 'delta' ? 'Δ' : key === 'gain' ? 'g' : key}</option>`)}</select></label>
  </div>`;
}

/** The statistics of each configuration shown, through the shared renderer; task rows filtered and sorted. */
function Grid({ view, filters }: { view: JobView; filters: Filters }) {
  // The charts of a big job hold thousands of marks: drawn when asked, so the grid opens at once.
  const [charts, setCharts] = useState(false);
  const markup = useMemo(() => {
    const needle = (filters.task ?? '').toLowerCase();
    const sort = SORTS[filters.sort ?? 'task'] ?? SORTS.task!;
    const tasksWithStatus = filters.status
      ? new Set(
          view.trials.filter((row) => statusMatches(row, filters.status)).map((row) => `${configOf(row)}\n${row.task}`),
        )
      : undefined;
    const sections = view.report.configs.map((config, index) => {
      if (filters.config && config.label !== filters.config) return '';
      const rows = config.tasks
        .filter((row) => row.task.toLowerCase().includes(needle))
        .filter((row) => !tasksWithStatus || tasksWithStatus.has(`${config.label}\n${row.task}`))
        .sort(sort);
      return configSection(config, index, {
        rows,
        taskHref: (task) => compareHref(view.entry.key, task, { config: config.label }),
        tableFirst: true,
        charts,
      });
    });
    return `${sections.join('\n')}${errorsSection(view.report)}${methodSection(view.report)}`;
  }, [view, filters.config, filters.task, filters.status, filters.sort, charts]);
  if (view.report.configs.length === 0)
    return html`<p class="empty">No finished trial yet${view.entry.running > 0 ? ` (${view.entry.running} running)` : ''}.</p>`;
  // Markup from html-stats.ts, where every piece of text goes through escapeHtml.
  return html`<p><button name="charts" onClick=${() => setCharts(!charts)}>${charts ? 'Hide the charts' : 'Show the charts'}</button></p>
    <div class="stats" dangerouslySetInnerHTML=${{ __html: markup }}></div>`;
}

function TrialList({ view, filters, setFilter }: { view: JobView; filters: Filters; setFilter: (f: Filters) => void }) {
  const needle = (filters.task ?? '').toLowerCase();
  // In the server's order (task, agent, model, arm, index): filtered here, never sorted again.
  const rows = useMemo(
    () =>
      view.trials.filter(
        (row) =>
          (!filters.config || configOf(row) === filters.config) &&
          row.task.toLowerCase().includes(needle) &&
          statusMatches(row, filters.status),
      ),
    [view, filters.config, needle, filters.status],
  );
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const page = Math.min(pages, Math.max(1, Number(filters.page ?? 1) || 1));
  const shown = rows.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const key = view.entry.key;
  return html`<section><h2>Trials: ${rows.length}${rows.length !== view.trials.length ? ` of ${view.trials.length}` : ''}</h2>
    <div class="pager">page ${page} of ${pages}
      ${page > 1 ? html`<a href=${jobHref(key, { ...filters, page: String(page - 1) } as Record<string, string>)}>← previous</a>` : null}
      ${page < pages ? html`<a href=${jobHref(key, { ...filters, page: String(page + 1) } as Record<string, string>)}>next →</a>` : null}
      ${filters.page && page === 1 ? html`<button onClick=${() => setFilter({})}>first</button>` : null}</div>
    <table class="list trials"><thead><tr><th>Trial</th><th>Task</th><th>Agent / model</th><th>Arm</th><th>Status</th><th>Reward</th><th>Time</th><th>Tokens</th><th>Steps</th><th>Skill opened</th></tr></thead>
    <tbody>${shown.map(
      (row) => html`<tr key=${row.name} data-trial=${row.name}>
      <td><a href=${trialHref(key, row.name)}>${row.name}</a></td><td>${row.task}</td><td>${configOf(row)}</td><td>${row.arm}</td>
      <td><${StatusBadge} status=${row.status} phase=${row.phase} />${row.error ? html` <span title=${row.error}>${row.error.slice(0, 80)}</span>` : null}</td>
      <td class="num">${row.reward ?? '—'}</td><td class="num">${ms(row.durationMs)}</td><td class="num">${count(row.tokens)}</td>
      <td class="num">${row.steps ?? '—'}</td><td>${row.skillOpened === undefined ? '' : row.skillOpened ? 'yes' : 'no'}</td></tr>`,
    )}</tbody></table></section>`;
}
