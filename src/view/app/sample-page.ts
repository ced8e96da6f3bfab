import type { EpisodeStep, SampleView } from '../model.js';
import { loadSample, runRawUrl } from './data.js';
import { ClipText, Crumbs, FileList, factTable, html, Loading, ms, runHref, useLoad } from './ui.js';

/**
 * One sample of a run. For a browser episode: what the model was shown at each step, what it answered, the page
 * after its actions (the step's screenshot) and the episode's Playwright trace, all from the episode's evidence.
 */

export function SamplePage({ runKey, line }: { runKey: string; line: number }) {
  const { value, error } = useLoad<SampleView>(() => loadSample(runKey, line), [runKey, line]);
  if (!value) return html`<${Loading} error=${error} />`;
  const { row } = value;
  const raw = (path: string): string => runRawUrl(runKey, path);
  return html`<${Crumbs}><a href=${runHref(runKey)}>run ${runKey}</a> / sample ${line}</${Crumbs}>
    <header><h1>${row.id ?? `sample ${line}`}${row.page ? html` · <code>${row.page}</code>` : null}</h1>
      <p class="meta">reward <span data-reward>${row.reward ?? '—'}</span> · ${row.success === undefined ? '' : row.success ? 'success' : 'failure'}
        ${row.endedBy ? ` · ended by ${row.endedBy}` : ''} · ${ms(row.durationMs)}</p>
      ${row.error ? html`<p class="error-box">${row.errorCode ? `${row.errorCode}: ` : ''}${row.error}</p>` : null}</header>
    <div class="facts-grid"><div class="panel" data-panel="sample"><h3>Sample</h3>${factTable(Object.entries(value.sample))}</div></div>
    ${value.trace ? html`<p class="trace">${value.traceOmitted ? html`Trace left out (over the size cap): <a href=${raw(value.trace)} target="_blank" rel="noopener">why</a>` : html`<a href=${raw(value.trace)} download="trace.zip" data-trace>Playwright trace</a> — open it with <code>npx playwright show-trace trace.zip</code>`}</p>` : null}
    ${value.steps.length > 0 ? html`<h2>Steps: ${value.steps.length}</h2><ol class="episode">${value.steps.map((step) => html`<${StepCard} key=${step.step} step=${step} raw=${raw} />`)}</ol>` : html`<h2>Prompt</h2><${ClipText} clip=${value.prompt} /><h2>Completion</h2><${ClipText} clip=${value.completion} />`}
    ${value.actions.length > 0 ? html`<h2>Actions</h2><pre>${value.actions.map((a) => JSON.stringify(a)).join('\n')}</pre>` : null}
    <h2>Evidence files</h2>
    <${FileList} files=${value.files} href=${raw} />`;
}

function StepCard({ step, raw }: { step: EpisodeStep; raw: (path: string) => string }) {
  return html`<li class="episode-step" data-step=${step.step}>
    <h3>Step ${step.step}${step.at ? html` <span class="meta">${step.at.replace('T', ' ').slice(11, 23)}</span>` : null}</h3>
    <div class="episode-cols">
      <div><div class="card-title">shown to the model${step.imagesSent > 0 ? ` (+ ${step.imagesSent} screenshot)` : ''}</div><${ClipText} clip=${step.observation} /></div>
      <div><div class="card-title">reply</div><div data-reply><${ClipText} clip=${step.reply} /></div>
        ${step.error ? html`<p class="error-box">${step.error}</p>` : null}
        ${step.screenshot ? html`<div class="card-title">the page after its actions</div><a href=${raw(step.screenshot)} target="_blank" rel="noopener"><img class="shot" src=${raw(step.screenshot)} alt=${`step ${step.step} screenshot`} loading="lazy" /></a>` : null}</div>
    </div>
  </li>`;
}
