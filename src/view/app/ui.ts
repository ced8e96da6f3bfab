import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatCount, formatDurationMs } from '../../analytics/format.js';
import type { Clipped, TrialRow } from '../model.js';

/** Small pieces every page uses. Text is always passed as a child (Preact escapes it), never as markup. */

export { html };

export const enc = encodeURIComponent;

export function jobHref(key: string, query?: Record<string, string | undefined>): string {
  return `#/job/${enc(key)}${queryString(query)}`;
}

export function trialHref(key: string, name: string): string {
  return `#/job/${enc(key)}/trial/${enc(name)}`;
}

export function compareHref(key: string, task: string, query?: Record<string, string | undefined>): string {
  return `#/job/${enc(key)}/compare/${enc(task)}${queryString(query)}`;
}

export function runHref(key: string): string {
  return `#/run/${enc(key)}`;
}

export function sampleHref(key: string, line: number): string {
  return `#/run/${enc(key)}/sample/${line}`;
}

export function queryString(query: Record<string, string | undefined> | undefined): string {
  if (!query) return '';
  const parts = Object.entries(query).filter(([, value]) => value !== undefined && value !== '');
  return parts.length === 0 ? '' : `?${parts.map(([key, value]) => `${enc(key)}=${enc(value!)}`).join('&')}`;
}

export function ms(value: number | undefined): string {
  return formatDurationMs(value);
}

export function count(value: number | undefined): string {
  return formatCount(value);
}

export function configOf(row: Pick<TrialRow, 'agent' | 'model'>): string {
  return row.model ? `${row.agent} · ${row.model}` : row.agent;
}

export function StatusBadge({ status, phase }: { status: string; phase?: string | undefined }) {
  const text = status === 'running' && phase ? `running: ${phase}` : status;
  return html`<span class=${`badge s-${status}`} data-status=${status}>${text}</span>`;
}

/** A long text: its first part, and where the rest is when it was cut. */
export function ClipText({
  clip,
  rawHref,
  where,
}: {
  clip: Clipped | undefined;
  rawHref?: string | undefined;
  where?: string | undefined;
}) {
  if (!clip) return null;
  return html`<pre>${clip.text}</pre>${
    clip.full !== undefined
      ? html`<div class="clip-note">cut at ${count(clip.text.length)} of ${count(clip.full)} characters — the whole text:
          ${rawHref ? html`<a href=${rawHref} target="_blank" rel="noopener">${where ?? 'raw file'}</a>` : 'in the raw file'}</div>`
      : null
  }`;
}

/** Loads something, shows "Loading…" meanwhile and the error if it fails; `reload` changes trigger a new load. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { value?: T | undefined; error?: string | undefined } {
  const [state, setState] = useState<{ value?: T | undefined; error?: string | undefined }>({});
  useEffect(() => {
    let cancelled = false;
    load().then(
      (value) => !cancelled && setState({ value }),
      (error: Error) => !cancelled && setState({ error: error.message }),
    );
    return () => {
      cancelled = true;
    };
  }, deps);
  return state;
}

/** Calls `tick` every `everyMs` while mounted and `active`. */
export function usePoll(active: boolean, everyMs: number, tick: () => void, deps: unknown[]): void {
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(tick, everyMs);
    return () => clearInterval(timer);
  }, [active, ...deps]);
}

export function Loading({ error }: { error?: string | undefined }) {
  return error ? html`<p class="error-box">${error}</p>` : html`<p class="loading">Loading…</p>`;
}

export function Crumbs({ children }: { children: ComponentChildren }) {
  return html`<p class="crumbs"><a href="#/">jobs</a> / ${children}</p>`;
}

/** Label–value rows; rows without a value are left out, objects shown as JSON. */
export function factTable(rows: Array<[string, unknown]>) {
  return html`<table>${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => html`<tr><td>${k}</td><td>${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}</td></tr>`)}</table>`;
}

export function FileList({
  files,
  href,
}: {
  files: Array<{ path: string; bytes: number }>;
  href: (path: string) => string;
}) {
  return files.length === 0
    ? html`<p class="empty">none</p>`
    : html`<ul class="files">${files.map((file) => html`<li><a href=${href(file.path)} target="_blank" rel="noopener">${file.path}</a> (${count(file.bytes)} bytes)</li>`)}</ul>`;
}
