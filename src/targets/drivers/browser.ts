import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import pLimit from 'p-limit';
import type { Browser } from 'playwright-core';
import { InfraError } from '../../errors.js';
import type { BrowserParams, Contract } from '../contract.js';
import { readSamples } from '../samples.js';
import type { StageFailure } from '../stages.js';
import { type EpisodeJob, type EpisodeSample, runEpisode } from './browser/episode.js';
import { breakdownByGroup, rewardOutOfRange, summariseEpisodes } from './browser/reward.js';
import type { DriverContext, DriverEvaluation, DriverRollout, RolloutContext } from './types.js';

export { parseActions } from './browser/actions.js';

/**
 * The browser driver: episodes in headless Chromium. Pages are served from the target by a local static
 * server; the page exposes its state through globals the contract names as expressions (ready, start,
 * utterance, done, reward, success). Each step the model sees the task, the page's interactive elements and
 * the results of its earlier actions (browser/observe.ts) and answers with actions as JSON
 * (browser/actions.ts); one episode is browser/episode.ts, what its reward means browser/reward.ts.
 */

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
};

/** A static file server for the target directory on 127.0.0.1; nothing outside the directory is served. */
export async function serveDirectory(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const base = resolve(root);
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
      if (file !== base && !file.startsWith(base + sep)) return response.writeHead(403).end('forbidden');
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) return response.writeHead(404).end('not found');
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      response.end(await readFile(file));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  if (
    !(await stat(executablePath).then(
      (s) => s.isFile(),
      () => false,
    ))
  ) {
    throw new InfraError(`Chromium not found at ${executablePath}`, {
      retryable: false,
      hint: 'install it: apt-get update && apt-get install -y chromium (scripts/setup/chromium.sh), or set executable_path in the browser driver parameters',
    });
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

function episodeId(params: BrowserParams, index: number): string {
  return params.episodes[index]!.id ?? params.episodes[index]!.page;
}

/** The rollout's failure when no episode even started: the pages, not the model, are what to fix. */
function notStarted(samples: readonly EpisodeSample[]): StageFailure | undefined {
  if (samples.length === 0 || samples.some((s) => s.started)) return undefined;
  const codes = [...new Set(samples.map((s) => s.error_code ?? '?'))];
  const failureClass = codes.every((c) => c === 'page_not_found')
    ? 'missing_file'
    : codes.every((c) => c === 'ready_timeout')
      ? 'timeout'
      : 'exit_code';
  return {
    stage: 'rollout',
    code: 'episodes_not_started',
    message: `none of the ${samples.length} episodes started (${codes.join(', ')}); first: ${samples[0]!.error ?? '?'}`,
    class: failureClass,
  };
}

export async function browserRollout(params: BrowserParams, context: RolloutContext): Promise<DriverRollout> {
  const count = context.limit === undefined ? params.episodes.length : Math.min(context.limit, params.episodes.length);
  const jobs: EpisodeJob[] = [];
  for (const seed of context.seeds)
    for (let index = 0; index < count; index++)
      jobs.push({ index, seed, episode: params.episodes[index]!, id: episodeId(params, index) });
  const site = await serveDirectory(context.targetDir);
  let browser: Browser | undefined;
  let modelCalls = 0;
  const samples: EpisodeSample[] = [];
  try {
    // One browser per run; each episode gets its own context, `concurrency` at a time.
    browser = await launchChromium(params.executable_path);
    const env = {
      browser,
      siteUrl: site.url,
      params,
      model: context.model,
      artifactsDir: context.artifactsDir,
      redactor: context.redactor,
      signal: context.signal,
    };
    const limit = pLimit(params.concurrency);
    const results = await Promise.all(jobs.map((job) => limit(() => runEpisode(env, job))));
    for (const { sample, modelCalls: calls } of results) {
      samples.push(sample);
      modelCalls += calls;
      context.log(
        `[rollout] episode ${sample.id} seed ${sample.seed}: reward ${sample.reward}${sample.error ? ` (${sample.error_code}: ${sample.error})` : ''}`,
      );
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await site.close();
  }
  await writeFile(
    context.samplesPath,
    samples.map((s) => context.redactor.redact(JSON.stringify(s))).join('\n') + (samples.length > 0 ? '\n' : ''),
  );
  const ids = new Set(params.episodes.map((_, index) => episodeId(params, index)));
  return {
    counts: {
      samples: samples.length,
      dataset_rows: params.episodes.length,
      errors: samples.filter((s) => s.error_code !== undefined).length,
      model_calls: modelCalls,
    },
    expectedSamples: jobs.length,
    fromDataset: (sample) => sample.id !== undefined && ids.has(String(sample.id)),
    modelResponses: context.model.canary ? undefined : samples.flatMap((s) => s.replies),
    failure: notStarted(samples),
    notes: [
      `${count} of ${params.episodes.length} episodes × ${context.seeds.length} seed(s) in Chromium (${CHROMIUM_ARGS.join(' ')}), ${params.concurrency} at a time`,
    ],
  };
}

/** Aggregates the rewards the pages reported during the rollout (read by the runner, not written by the model). */
export async function browserEvaluate(
  _params: BrowserParams,
  scoring: Contract['scoring'],
  context: DriverContext,
): Promise<DriverEvaluation> {
  const read = await readSamples(context.samplesPath);
  const fail = (code: string, message: string, failureClass: StageFailure['class']): DriverEvaluation => ({
    metrics: {},
    counts: { samples: read.samples.length },
    scoreSource: 'driver:browser',
    notes: [],
    failure: { stage: 'evaluate', code, message, class: failureClass },
  });
  if (read.samples.length === 0)
    return fail(
      read.missing ? 'samples_missing' : 'samples_no_valid_lines',
      `no episodes in ${context.samplesPath}`,
      'integrity',
    );
  const outOfRange = rewardOutOfRange(read.samples, scoring.range);
  if (outOfRange) return fail('score_out_of_range', outOfRange, 'score');
  const outcomes = read.samples.map((s) => ({
    group: typeof s.group === 'string' ? s.group : String(s.page ?? s.id),
    reward: typeof s.reward === 'number' ? s.reward : null,
    success: s.success === true,
    error: typeof s.error_code === 'string' ? s.error_code : undefined,
  }));
  const overall = summariseEpisodes(outcomes, scoring.range[0]);
  const metrics = { success_rate: overall.success_rate, mean_reward: overall.mean_reward };
  return {
    score: metrics[scoring.primary_metric as keyof typeof metrics],
    metrics,
    counts: { samples: overall.episodes, correct: overall.successes, errors: overall.errors },
    breakdown: breakdownByGroup(outcomes, scoring.range[0]),
    scoreSource: 'driver:browser (page reward expression)',
    successes: scoring.primary_metric === 'success_rate' ? overall.successes : undefined,
    notes: overall.errors ? [`${overall.errors} episode(s) ended in an error: they count as failures`] : [],
  };
}
