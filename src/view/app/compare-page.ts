import { formatPercent, plural } from '../../analytics/format.js';
import { type AlignedRow, align, comparable, firstDivergence, signature } from '../align.js';
import type { JobView, Step, TrialRow, TrialView } from '../model.js';
import { loadJob, loadTrial } from './data.js';
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
} from './ui.js';

/**
 * The two arms of one task side by side: a with-skills trial (left, "a") next to a no-skills trial (right, "b"),
 * either chosen from the task's trials, their agent actions aligned (src/view/align.ts), the first divergence
 * marked; above, per arm: how often the skill was opened, steps, tokens and time.
 */

export interface CompareQuery {
  config?: string | undefined;
  a?: string | undefined;
  b?: string | undefined;
}

export function ComparePage({ jobKey, task, query }: { jobKey: string; task: string; query: CompareQuery }) {
  const { value, error } = useLoad<JobView>(() => loadJob(jobKey), [jobKey]);
  if (!value) return html`<${Loading} error=${error} />`;
  const trials = value.trials.filter((row) => row.task === task && row.status !== 'running');
  const config = query.config ?? (trials[0] ? configOf(trials[0]) : '');
  const mine = trials.filter((row) => configOf(row) === config).sort((x, y) => (x.index ?? 0) - (y.index ?? 0));
  const withSkills = mine.filter((row) => row.arm === 'with-skills');
  const noSkills = mine.filter((row) => row.arm === 'no-skills');
  const a = query.a ?? withSkills[0]?.name;
  const b =
    query.b ??
    noSkills.find((row) => row.index === withSkills.find((w) => w.name === a)?.index)?.name ??
    noSkills[0]?.name;
  const go = (change: CompareQuery): void => {
    location.hash = compareHref(jobKey, task, { config, a, b, ...change });
  };
  const configs = [...new Set(trials.map(configOf))];
  return html`<${Crumbs}><a href=${jobHref(jobKey)}>${jobKey}</a> / ${task}</${Crumbs}>
    <header><h1>${task}: the arms side by side</h1></header>
    <div class="filters">
      <label>Agent / model <select name="config" value=${config} onChange=${(e: Event) => go({ config: (e.target as HTMLSelectElement).value, a: undefined, b: undefined })}>${configs.map((c) => html`<option value=${c}>${c}</option>`)}</select></label>
      <label>With skills <select name="a" value=${a ?? ''} onChange=${(e: Event) => go({ a: (e.target as HTMLSelectElement).value })}>${withSkills.map((row) => html`<option value=${row.name}>#${row.index} ${row.status}</option>`)}</select></label>
      <label>No skills <select name="b" value=${b ?? ''} onChange=${(e: Event) => go({ b: (e.target as HTMLSelectElement).value })}>${noSkills.map((row) => html`<option value=${row.name}>#${row.index} ${row.status}</option>`)}</select></label>
    </div>
    <${ArmSummary} withSkills=${withSkills} noSkills=${noSkills} />
    ${a && b ? html`<${SideBySide} key=${`${a}|${b}`} jobKey=${jobKey} a=${a} b=${b} />` : html`<p class="empty">This task needs a finished trial in each arm to compare.</p>`}`;
}

function mean(values: Array<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : known.reduce((s, v) => s + v, 0) / known.length;
}

function ArmSummary({ withSkills, noSkills }: { withSkills: TrialRow[]; noSkills: TrialRow[] }) {
  const line = (label: string, rows: TrialRow[]) => {
    const passed = rows.filter((row) => row.status === 'passed').length;
    const opened = rows.filter((row) => row.skillOpened).length;
    const steps = mean(rows.map((row) => row.steps));
    return html`<tr data-arm=${label}><td>${label}</td><td class="num">${rows.length}</td><td class="num">${passed}</td>
      <td class="num">${label === 'with-skills' ? `${opened} of ${rows.length}${rows.length > 0 ? ` (${formatPercent(opened / rows.length)})` : ''}` : '—'}</td>
      <td class="num">${steps === undefined ? '—' : steps.toFixed(1)}</td><td class="num">${count(mean(rows.map((row) => row.tokens)))}</td><td class="num">${ms(mean(rows.map((row) => row.durationMs)))}</td></tr>`;
  };
  return html`<table class="list arm-summary"><thead><tr><th>Arm</th><th>Trials</th><th>Passed</th><th>Skill opened</th><th>Mean steps</th><th>Mean tokens</th><th>Mean time</th></tr></thead>
    <tbody>${line('with-skills', withSkills)}${line('no-skills', noSkills)}</tbody></table>`;
}

function SideBySide({ jobKey, a, b }: { jobKey: string; a: string; b: string }) {
  const { value, error } = useLoad<[TrialView, TrialView]>(
    () => Promise.all([loadTrial(jobKey, a), loadTrial(jobKey, b)]),
    [jobKey, a, b],
  );
  if (!value) return html`<${Loading} error=${error} />`;
  const stepsA = comparable(value[0].steps);
  const stepsB = comparable(value[1].steps);
  const rows = align(stepsA.map(signature), stepsB.map(signature));
  const divergence = firstDivergence(rows);
  const onlyA = rows.filter((row) => row.b === undefined).length;
  const onlyB = rows.filter((row) => row.a === undefined).length;
  return html`<p class="meta" data-divergence=${divergence ?? ''}>${plural(stepsA.length, 'step')} with skills, ${stepsB.length} without ·
      ${onlyA} only with skills, ${onlyB} only without ·
      ${divergence === undefined ? 'the two trials took the same steps' : html`<span class="divergence-mark">first divergence at step ${divergence + 1}</span>`}</p>
    <table class="sbs"><thead><tr><th class="idx">#</th>
      <th><a href=${trialHref(jobKey, a)}>${a}</a> <${StatusBadge} status=${value[0].row.status} /></th><th class="a-meta">time · tokens</th>
      <th><a href=${trialHref(jobKey, b)}>${b}</a> <${StatusBadge} status=${value[1].row.status} /></th><th class="b-meta">time · tokens</th></tr></thead>
    <tbody>${rows.map((row, index) => html`<${AlignedLine} key=${index} row=${row} index=${index} divergence=${index === divergence} a=${stepsA} b=${stepsB} />`)}</tbody></table>`;
}

function cell(step: Step | undefined) {
  if (!step) return '';
  const exit = step.exitCode !== undefined ? ` → exit ${step.exitCode}` : '';
  return html`${step.skill ? html`<span class="badge skill-mark">skill ${step.skill.name}</span> ` : null}${step.kind === 'message' ? `[${step.title}] ${step.output?.text.slice(0, 300) ?? ''}` : `${step.title.slice(0, 400)}${exit}`}`;
}

function meta(step: Step | undefined): string {
  if (!step) return '';
  return [
    step.t === undefined ? undefined : `at ${ms(step.t)}`,
    step.durationMs === undefined ? undefined : ms(step.durationMs),
    step.tokens === undefined ? undefined : `${count(step.tokens)} tok`,
  ]
    .filter(Boolean)
    .join(' · ');
}

function AlignedLine({
  row,
  index,
  divergence,
  a,
  b,
}: {
  row: AlignedRow;
  index: number;
  divergence: boolean;
  a: Step[];
  b: Step[];
}) {
  const stepA = row.a === undefined ? undefined : a[row.a];
  const stepB = row.b === undefined ? undefined : b[row.b];
  const kind = stepA && stepB ? 'same' : stepA ? 'only-a' : 'only-b';
  return html`<tr class=${`${kind}${divergence ? ' divergence' : ''}`} data-row=${kind}>
    <td class="idx">${divergence ? html`<span class="divergence-mark" title="first divergence">▶</span>` : null}${index + 1}</td>
    <td class="cell a">${cell(stepA)}</td><td class="a-meta">${meta(stepA)}</td>
    <td class="cell b">${cell(stepB)}</td><td class="b-meta">${meta(stepB)}</td></tr>`;
}
