import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appScript, appStyle, indexHtml } from './assets.js';
import type { Catalog } from './catalog.js';
import type { RawFile } from './model.js';
import {
  bundleJobFile,
  bundleJobsFile,
  bundleRawFile,
  bundleRunFile,
  bundleRunRawFile,
  bundleSampleFile,
  bundleTrialFile,
  DATA_CALLBACK,
} from './names.js';
import type { RunStore } from './run-store.js';
import { trialView } from './trial-data.js';

/**
 * `view --bundle OUT`: the same app as a static site. index.html, one classic script, one stylesheet, and the data
 * the server would have answered, each as a script that hands it to window.__skillEvalData (see app/data.ts); the
 * trials' and runs' raw files up to `maxRawBytes` each are copied next to them. Nothing is fetched at run time.
 */

export interface BundleOutcome {
  out: string;
  jobs: number;
  trials: number;
  /** Benchmark target runs, and their samples. */
  runs: number;
  samples: number;
  rawFiles: number;
  /** Raw files not copied because they exceed the cap (the trial page still lists them). */
  skippedRaw: number;
}

export const DEFAULT_RAW_CAP_BYTES = 5 * 1024 * 1024;

function dataScript(id: string, value: unknown): string {
  // JSON is valid JavaScript except for U+2028/2029 in old engines, and "</script" never matters in a .js file.
  const json = JSON.stringify(value)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `window.${DATA_CALLBACK}(${JSON.stringify(id)},${json});\n`;
}

function write(out: string, file: string, content: string): void {
  const path = join(out, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

export async function writeBundle(
  catalog: Catalog,
  out: string,
  maxRawBytes = DEFAULT_RAW_CAP_BYTES,
): Promise<BundleOutcome> {
  mkdirSync(out, { recursive: true });
  write(out, 'index.html', indexHtml('bundle'));
  write(out, 'assets/app.js', await appScript());
  write(out, 'assets/app.css', appStyle());
  const jobs = catalog.jobs();
  write(out, bundleJobsFile(), dataScript(bundleJobsFile(), jobs));
  const outcome: BundleOutcome = {
    out,
    jobs: jobs.jobs.length,
    trials: 0,
    runs: jobs.runs.length,
    samples: 0,
    rawFiles: 0,
    skippedRaw: 0,
  };
  for (const store of catalog.all()) {
    const key = store.source.key;
    write(out, bundleJobFile(key), dataScript(bundleJobFile(key), store.jobView()));
    for (const name of store.trialNames()) {
      const view = trialView(store, name);
      if (!view) continue;
      outcome.trials++;
      write(out, bundleTrialFile(key, name), dataScript(bundleTrialFile(key, name), view));
      const dir = store.trial(name)?.dir;
      if (dir) copyRaw(view.files, dir, (path) => join(out, bundleRawFile(key, name, path)), maxRawBytes, outcome);
    }
  }
  for (const store of catalog.allRuns()) writeRun(store, out, maxRawBytes, outcome);
  return outcome;
}

/** A run's page, each sample's page, and the files both link to. */
function writeRun(store: RunStore, out: string, maxRawBytes: number, outcome: BundleOutcome): void {
  const { key, dir } = store.source;
  const run = store.runView();
  write(out, bundleRunFile(key), dataScript(bundleRunFile(key), run));
  const target = (path: string): string => join(out, bundleRunRawFile(key, path));
  copyRaw(run.files, dir, target, maxRawBytes, outcome);
  for (const row of run.samples) {
    const view = store.sampleView(row.line);
    if (!view) continue;
    outcome.samples++;
    write(out, bundleSampleFile(key, row.line), dataScript(bundleSampleFile(key, row.line), view));
    copyRaw(view.files, dir, target, maxRawBytes, outcome);
  }
}

function copyRaw(
  files: readonly RawFile[],
  dir: string,
  target: (path: string) => string,
  maxRawBytes: number,
  outcome: BundleOutcome,
): void {
  for (const file of files) {
    if (file.bytes > maxRawBytes) {
      outcome.skippedRaw++;
      continue;
    }
    const path = target(file.path);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(dir, file.path), path);
    outcome.rawFiles++;
  }
}
