import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ComparePage } from './compare-page.js';
import { JobPage } from './job-page.js';
import { JobsPage } from './jobs-page.js';
import { RunPage } from './run-page.js';
import { SamplePage } from './sample-page.js';
import { TrialPage } from './trial-page.js';
import { html } from './ui.js';

/** The viewer's front-end: a hash router over the pages (jobs and runs, a job, a trial, the arms side by side, a benchmark run, one of its samples). */

interface Route {
  path: string[];
  query: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(search)) query[key] = value;
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query };
}

function Page({ route }: { route: Route }) {
  const [first, key, sub, name] = route.path;
  if (first === 'job' && key !== undefined) {
    if (sub === 'trial' && name !== undefined)
      return html`<${TrialPage} key=${`${key}/${name}`} jobKey=${key} name=${name} />`;
    if (sub === 'compare' && name !== undefined)
      return html`<${ComparePage} jobKey=${key} task=${name} query=${route.query} />`;
    return html`<${JobPage} key=${key} jobKey=${key} filters=${route.query} />`;
  }
  if (first === 'run' && key !== undefined) {
    if (sub === 'sample' && name !== undefined)
      return html`<${SamplePage} key=${`${key}/${name}`} runKey=${key} line=${Number(name)} />`;
    return html`<${RunPage} key=${key} runKey=${key} />`;
  }
  return html`<${JobsPage} />`;
}

function App() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = (): void => {
      setRoute(parseHash(location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return html`<${Page} route=${route} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
