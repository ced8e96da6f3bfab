/**
 * File names of the static bundle (`view --bundle`), the same in the writer (Node) and the front-end (browser):
 * every character but letters, digits and `-` becomes `_` and its code in hex, so a name can never climb out of
 * its folder or collide with another.
 */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, (character) => `_${character.codePointAt(0)!.toString(16)}_`);
}

export const BUNDLE_DATA_DIR = 'data';
export const BUNDLE_RAW_DIR = 'raw';

/** The global the bundle's data scripts call: `window.__skillEvalData(id, value)`. */
export const DATA_CALLBACK = '__skillEvalData';

export function bundleJobsFile(): string {
  return `${BUNDLE_DATA_DIR}/jobs.js`;
}

export function bundleJobFile(key: string): string {
  return `${BUNDLE_DATA_DIR}/${safeName(key)}/job.js`;
}

export function bundleTrialFile(key: string, trial: string): string {
  return `${BUNDLE_DATA_DIR}/${safeName(key)}/t-${safeName(trial)}.js`;
}

export function bundleRawFile(key: string, trial: string, path: string): string {
  return `${BUNDLE_RAW_DIR}/${safeName(key)}/${safeName(trial)}/${path.split('/').map(safeName).join('/')}`;
}

export function bundleRunFile(key: string): string {
  return `${BUNDLE_DATA_DIR}/runs/${safeName(key)}/run.js`;
}

export function bundleSampleFile(key: string, line: number): string {
  return `${BUNDLE_DATA_DIR}/runs/${safeName(key)}/s-${line}.js`;
}

/** A run's files live apart from the jobs' (`raw-runs/`): a run and a job may share a name. */
export function bundleRunRawFile(key: string, path: string): string {
  return `raw-runs/${safeName(key)}/${path.split('/').map(safeName).join('/')}`;
}
