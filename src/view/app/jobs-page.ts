import { useState } from 'preact/hooks';
import { formatPercent } from '../../analytics/format.js';
import type { JobListEntry, JobsView, RunListEntry } from '../model.js';
import { live, loadJobs } from './data.js';
import { scoreText } from './run-page.js';
import { html, jobHref, Loading, runHref, useLoad, usePoll } from './ui.js';

/**
 * The first page: every job found under the directories given, newest first, with progress and pass rates; then
 * every benchmark target run, with its score.
 */
export function JobsPage() {
  const [tick, setTick] = useState(0);
  const { value, error } = useLoad<JobsView>(loadJobs, [tick]);
  usePoll(live, 3000, () => setTick((n) => n + 1), []);
  if (!value) return html`<${Loading} error=${error} />`;
  return html`<header><h1>skill-eval view</h1>
      <p class="meta">${value.jobs.length} jobs${value.runs.length > 0 ? `, ${value.runs.length} benchmark runs` : ''} in ${value.roots.join(', ')}${live ? html` · <span class="live">live</span>` : null}</p></header>
    ${value.jobs.length === 0 && value.runs.length === 0 ? html`<p class="empty">No jobs found. Run <code>skill-eval eval</code> first, or pass the results directory.</p>` : null}
    <table class="list jobs">
      <thead><tr><th>Date</th><th>Job</th><th>Tasks</th><th>Agents / models</th><th>Arms</th><th>Progress</th><th>Pass rate</th><th>Errors</th></tr></thead>
      <tbody>${value.jobs.map((job) => html`<${JobRow} key=${job.key} job=${job} />`)}</tbody>
    </table>
    ${value.runs.length > 0 ? html`<${RunsTable} runs=${value.runs} />` : null}
    ${value.problems.length > 0 ? html`<section class="errors"><h2>Not readable</h2><ul>${value.problems.map((p) => html`<li><code>${p.file}</code>: ${p.reason}</li>`)}</ul></section>` : null}`;
}

function JobRow({ job }: { job: JobListEntry }) {
  const progress = job.planned !== undefined ? `${job.finished} / ${job.planned}` : String(job.finished);
  const rates = Object.entries(job.passRates)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([arm, rate]) =>
        `${arm}: ${rate.counted > 0 ? formatPercent(rate.passed / rate.counted) : '—'} (${rate.passed}/${rate.counted})`,
    );
  return html`<tr data-job=${job.key}>
    <td>${job.createdAt ? job.createdAt.replace('T', ' ').slice(0, 19) : '—'}</td>
    <td><a href=${jobHref(job.key)}>${job.key}</a>${job.kind === 'legacy' ? ' (original reports)' : job.kind === 'trials' ? ' (trials)' : ''}</td>
    <td>${job.tasks.length <= 3 ? job.tasks.join(', ') : `${job.tasks.length} tasks`}</td>
    <td>${job.configs.join(', ')}</td>
    <td>${job.arms.join(', ')}</td>
    <td class="num">${progress}${job.running > 0 ? html` · <span class="badge s-running">${job.running} running</span>` : null}${job.complete ? '' : job.kind === 'job' ? ' (unfinished)' : ''}</td>
    <td>${rates.join(' · ')}</td>
    <td class="num">${job.errors}</td>
  </tr>`;
}

function RunsTable({ runs }: { runs: RunListEntry[] }) {
  return html`<h2>Benchmark runs</h2>
    <table class="list runs">
      <thead><tr><th>Date</th><th>Run</th><th>Target</th><th>Model</th><th>Mode</th><th>Samples</th><th>Score</th><th>Status</th></tr></thead>
      <tbody>${runs.map(
        (run) => html`<tr data-run=${run.key}>
        <td>${run.startedAt ? run.startedAt.replace('T', ' ').slice(0, 19) : '—'}</td>
        <td><a href=${runHref(run.key)}>${run.key}</a></td>
        <td>${run.target ?? '—'}</td>
        <td>${run.model ?? '—'}</td>
        <td>${run.mode ?? '—'}</td>
        <td class="num">${run.samples}</td>
        <td class="num" data-score>${scoreText(run)}</td>
        <td>${run.failure ? html`<span class="badge s-failed">failed</span> ${run.failure.slice(0, 160)}` : run.evaluated ? html`<span class="badge s-passed">evaluated</span>` : html`<span class="badge s-running">rolled out</span>`}</td>
      </tr>`,
      )}</tbody>
    </table>`;
}
