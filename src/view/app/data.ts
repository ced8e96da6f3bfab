import type { JobsView, JobView, RunView, SampleView, TrialView } from '../model.js';
import {
  bundleJobFile,
  bundleJobsFile,
  bundleRawFile,
  bundleRunFile,
  bundleRunRawFile,
  bundleSampleFile,
  bundleTrialFile,
  DATA_CALLBACK,
} from '../names.js';

/**
 * Where the pages get their data. Served (`skill-eval view`): JSON from /api. Bundled (`view --bundle`): each file is
 * a classic script that hands its value to window.__skillEvalData — fetch() and module scripts are refused from
 * file://, plain <script src> is not.
 */

export const mode: 'server' | 'bundle' = document.body.dataset.mode === 'bundle' ? 'bundle' : 'server';
export const live = mode === 'server';

const pending = new Map<string, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
const loaded = new Map<string, unknown>();
(window as unknown as Record<string, unknown>)[DATA_CALLBACK] = (id: string, value: unknown): void => {
  loaded.set(id, value);
  pending.get(id)?.resolve(value);
  pending.delete(id);
};

function script(file: string): Promise<unknown> {
  if (loaded.has(file)) return Promise.resolve(loaded.get(file));
  return new Promise((resolve, reject) => {
    pending.set(file, { resolve, reject });
    const element = document.createElement('script');
    element.src = file;
    element.onerror = () => {
      pending.delete(file);
      reject(new Error(`${file} is missing from the bundle`));
    };
    document.head.append(element);
  });
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const enc = encodeURIComponent;

export function loadJobs(): Promise<JobsView> {
  return mode === 'bundle' ? (script(bundleJobsFile()) as Promise<JobsView>) : api('api/jobs');
}

export function loadJob(key: string): Promise<JobView> {
  return mode === 'bundle' ? (script(bundleJobFile(key)) as Promise<JobView>) : api(`api/jobs/${enc(key)}`);
}

export function loadTrial(key: string, name: string): Promise<TrialView> {
  return mode === 'bundle'
    ? (script(bundleTrialFile(key, name)) as Promise<TrialView>)
    : api(`api/jobs/${enc(key)}/trials/${enc(name)}`);
}

export async function jobVersion(key: string): Promise<string> {
  return (await api<{ version: string }>(`api/jobs/${enc(key)}/version`)).version;
}

export function rawUrl(key: string, trial: string, path: string): string {
  return mode === 'bundle'
    ? bundleRawFile(key, trial, path)
    : `raw/${enc(key)}/${enc(trial)}/${path.split('/').map(enc).join('/')}`;
}

export function loadRun(key: string): Promise<RunView> {
  return mode === 'bundle' ? (script(bundleRunFile(key)) as Promise<RunView>) : api(`api/runs/${enc(key)}`);
}

export function loadSample(key: string, line: number): Promise<SampleView> {
  return mode === 'bundle'
    ? (script(bundleSampleFile(key, line)) as Promise<SampleView>)
    : api(`api/runs/${enc(key)}/samples/${line}`);
}

export function runRawUrl(key: string, path: string): string {
  return mode === 'bundle' ? bundleRunRawFile(key, path) : `run-raw/${enc(key)}/${path.split('/').map(enc).join('/')}`;
}
