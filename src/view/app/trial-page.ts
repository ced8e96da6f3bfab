import { useState } from 'preact/hooks';
import type { Step, TrialView } from '../model.js';
import { live, loadTrial, rawUrl } from './data.js';
import {
  ClipText,
  Crumbs,
  compareHref,
  configOf,
  count,
  FileList,
  html,
  jobHref,
  Loading,
  ms,
  StatusBadge,
  factTable as table,
  useLoad,
  usePoll,
} from './ui.js';

/**
 * One trial: what it was asked, what it did step by step (commands, tool calls, messages; skill openings
 * highlighted), how it was verified and scored, what it cost, how long each phase took, and its raw files.
 */

type Json = Record<string, unknown>;

export function TrialPage({ jobKey, name }: { jobKey: string; name: string }) {
  const [tick, setTick] = useState(0);
  const { value, error } = useLoad<TrialView>(() => loadTrial(jobKey, name), [jobKey, name, tick]);
  usePoll(live && value?.row.status === 'running', 1500, () => setTick((n) => n + 1), []);
  if (!value) return html`<${Loading} error=${error} />`;
  const { row } = value;
  const raw = (path: string): string => rawUrl(jobKey, name, path);
  return html`<${Crumbs}><a href=${jobHref(jobKey)}>${jobKey}</a> / ${name}</${Crumbs}>
    <header><h1>${row.task} · ${configOf(row)} · ${row.arm} #${row.index ?? ''}</h1>
      <p class="meta"><${StatusBadge} status=${row.status} phase=${row.phase} /> reward ${row.reward ?? '—'} · ${ms(row.durationMs)} ·
        <a href=${compareHref(jobKey, row.task, { config: configOf(row), [row.arm === 'no-skills' ? 'b' : 'a']: name })}>compare the arms</a>
        ${row.status === 'running' && live ? html` · <span class="live">live</span>` : null}</p>
      ${row.error ? html`<p class="error-box">${row.error}</p>` : null}</header>
    <${Facts} view=${value} />
    <h2>Instruction</h2><${ClipText} clip=${value.instruction} rawHref=${raw('session.jsonl')} where="session.jsonl" />
    <${Timeline} view=${value} raw=${raw} />
    <h2>Verifier</h2>
    ${
      value.verifier
        ? html`<p>exit code ${value.verifier.exitCode ?? '—'}</p>
      <${ClipText} clip=${value.verifier.stdout} rawHref=${raw('verifier/test-stdout.txt')} where="verifier/test-stdout.txt" />
      <${ClipText} clip=${value.verifier.stderr} rawHref=${raw('verifier/test-stderr.txt')} where="verifier/test-stderr.txt" />`
        : html`<p class="empty">not verified yet</p>`
    }
    <h2>Raw files</h2>
    <${FileList} files=${value.files} href=${raw} />`;
}

function Facts({ view }: { view: TrialView }) {
  const result = (view.result ?? {}) as Json;
  const timings = (result.timings ?? {}) as Json;
  const phases = (timings.phases ?? {}) as Record<string, number>;
  const usage = result.usage as Json | undefined;
  const agent = result.agent_result as Json | undefined;
  const skills = (result.skills as Array<Json> | undefined) ?? [];
  const limits = result.limits as Json | undefined;
  const graders = (result.graders as Array<Json> | undefined) ?? [];
  const retries = (result.retries as Array<Json> | undefined) ?? [];
  const isolation = result.isolation as Json | undefined;
  const tamper = result.tamper as Json | undefined;
  return html`<div class="facts-grid">
    <div class="panel" data-panel="timings"><h3>Timings</h3>${table([['started', timings.started_at], ['finished', timings.finished_at], ['total', ms(timings.total_ms as number | undefined)], ...Object.entries(phases).map(([k, v]): [string, unknown] => [k.replace(/_ms$/, ''), ms(v)])])}</div>
    <div class="panel" data-panel="usage"><h3>Tokens and cost</h3>${
      usage
        ? table([
            ['input tokens', count(usage.inputTokens as number)],
            ['output tokens', count(usage.outputTokens as number)],
            ['cached input', count(usage.cachedInputTokens as number)],
            [
              'cost',
              usage.costUsd === undefined
                ? undefined
                : `$${Number(usage.costUsd).toFixed(4)}${usage.costEstimated ? ' (estimated)' : ''}`,
            ],
            ['turns', usage.turns],
          ])
        : html`<p class="empty">not reported by the agent</p>`
    }
      ${
        agent
          ? table([
              ['commands', agent.commands],
              ['tool calls', agent.tool_calls],
              ['model calls', agent.model_calls],
              ['final message', agent.final_message],
            ])
          : null
      }</div>
    <div class="panel" data-panel="skills"><h3>Skills</h3>${table([
      ['injected', skills.map((s) => s.name).join(', ') || 'none'],
      ['activated (reported)', (result.skills_activated as string[] | undefined)?.join(', ')],
      [
        'opened (audit)',
        (isolation?.skills as Array<Json> | undefined)
          ?.filter((s) => s.opened)
          .map((s) => s.name)
          .join(', '),
      ],
      ['contaminated', isolation?.contaminated],
      ['tampered', tamper?.tampered],
    ])}</div>
    <div class="panel" data-panel="graders"><h3>Verifier and graders</h3>${table([
      ['reward', result.reward],
      ['source', result.reward_source],
      ['verifier exit', (result.verifier as Json | undefined)?.exit_code],
    ])}
      ${graders.length > 0 ? html`<table>${graders.map((g) => html`<tr><td>${g.name} (${g.type}, weight ${g.weight})</td><td>${g.score === undefined ? `error: ${g.error ?? '—'}` : g.score}</td></tr>`)}</table>` : null}</div>
    ${limits ? html`<div class="panel" data-panel="limits"><h3>Limits</h3>${table(Object.entries(limits).filter(([k]) => k !== 'notes'))}${(limits.notes as string[]).map((n) => html`<div class="card-detail">${n}</div>`)}</div>` : null}
    <div class="panel" data-panel="retries"><h3>Retries</h3>${retries.length === 0 ? html`<p class="empty">none</p>` : table(retries.map((r) => [`attempt ${r.attempt}`, `${r.status}: ${r.message}`]))}</div>
  </div>`;
}

/** Steps drawn at first; a longer timeline grows by this many on request (a 2,000-step trial opens at once). */
export const STEP_PAGE = 200;

function Timeline({ view, raw }: { view: TrialView; raw: (path: string) => string }) {
  const [actionsOnly, setActionsOnly] = useState(false);
  const [shown, setShown] = useState(STEP_PAGE);
  const all = actionsOnly
    ? view.steps.filter((step) => step.action || step.kind === 'message' || step.skill)
    : view.steps;
  const steps = all.slice(0, shown);
  const skills = view.steps.filter((step) => step.skill);
  return html`<h2 class="timeline-count">Timeline: ${view.steps.length} entries</h2>
    <p class="meta">${skills.length > 0 ? html`<span class="badge skill-mark">skill opened</span> ${skills.map((s) => `${s.skill!.name} at ${ms(s.t)} (${s.skill!.how})`).join('; ')}` : 'no skill opened'}
      · <label><input type="checkbox" checked=${actionsOnly} onChange=${() => setActionsOnly(!actionsOnly)} /> agent actions and messages only</label></p>
    ${view.omittedSteps > 0 ? html`<p class="clip-note">${view.omittedSteps} more entries are in <a href=${raw('session.jsonl')}>session.jsonl</a></p>` : null}
    <ol class="timeline">${steps.map((step) => html`<${StepItem} key=${step.line} step=${step} raw=${raw} />`)}</ol>
    ${
      all.length > shown
        ? html`<p class="pager">${shown} of ${all.length} entries shown
      <button name="more" onClick=${() => setShown(shown + STEP_PAGE * 5)}>show ${Math.min(STEP_PAGE * 5, all.length - shown)} more</button>
      <button name="all" onClick=${() => setShown(all.length)}>show all</button></p>`
        : null
    }`;
}

function StepItem({ step, raw }: { step: Step; raw: (path: string) => string }) {
  const [open, setOpen] = useState(false);
  const bad = step.exitCode !== undefined && step.exitCode !== 0;
  const where = `session.jsonl (entry ${step.line})`;
  return html`<li class=${`step k-${step.kind}${step.skill ? ' skill' : ''}`} data-kind=${step.kind}>
    <div class="step-head" onClick=${() => setOpen(!open)}>
      <span class="t">${step.t === undefined ? '' : ms(step.t)}</span>
      <span class="badge">${step.kind === 'command' && step.source ? `${step.source} command` : step.kind}</span>
      ${step.skill ? html`<span class="badge skill-mark">skill ${step.skill.name}: ${step.skill.how}</span>` : null}
      <span class="title">${step.title.slice(0, 300)}</span>
      <span class="meta">${step.exitCode !== undefined ? html`<span class=${bad ? 'exit-bad' : ''}>exit ${step.exitCode}</span> ` : null}${step.durationMs !== undefined ? ms(step.durationMs) : ''}${step.tokens !== undefined ? ` · ${count(step.tokens)} tokens` : ''}</span>
    </div>
    ${
      open
        ? html`<div class="step-body">
      ${step.input && step.kind !== 'instruction' ? html`<div class="card-title">input</div><${ClipText} clip=${step.input} rawHref=${raw('session.jsonl')} where=${where} />` : null}
      ${step.input && step.kind === 'instruction' ? html`<${ClipText} clip=${step.input} rawHref=${raw('session.jsonl')} where=${where} />` : null}
      ${step.output ? html`<div class="card-title">output</div><${ClipText} clip=${step.output} rawHref=${raw('session.jsonl')} where=${where} />` : null}
      ${step.stderr ? html`<div class="card-title">stderr</div><${ClipText} clip=${step.stderr} rawHref=${raw('session.jsonl')} where=${where} />` : null}
    </div>`
        : null
    }
  </li>`;
}
