import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { InfraError } from '../../errors.js';
import type { BrowserParams } from '../contract.js';
import type { ChatMessage } from '../model.js';
import { readSamples } from '../samples.js';
import type { DriverContext, DriverEvaluation, DriverRollout, RolloutContext } from './types.js';

/**
 * The browser driver: episodes in headless Chromium. Pages are served from the target by a local static
 * server; the page exposes its state through globals the contract names as expressions (ready, start,
 * utterance, done, reward). Each step the model sees the utterance and a summary of the page's
 * interactive elements and answers with actions as JSON: click, type, key.
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

export type BrowserAction =
  | { type: 'click'; ref?: number; selector?: string }
  | { type: 'type'; ref?: number; selector?: string; text: string }
  | { type: 'key'; key: string; ref?: number; selector?: string };

/** Reads `{"actions": [...]}` (or a bare list) from a reply, fenced or not; undefined when there is none. */
export function parseActions(reply: string): BrowserAction[] | undefined {
  const candidates = [
    /```(?:json)?\s*([\s\S]*?)```/.exec(reply)?.[1],
    reply,
    /\{[\s\S]*\}|\[[\s\S]*\]/.exec(reply)?.[0],
  ].filter((c): c is string => c !== undefined);
  for (const candidate of candidates) {
    try {
      const value = JSON.parse(candidate.trim()) as unknown;
      const list = Array.isArray(value) ? value : (value as { actions?: unknown })?.actions;
      if (!Array.isArray(list)) continue;
      return list.filter(
        (a): a is BrowserAction =>
          !!a && typeof a === 'object' && ['click', 'type', 'key'].includes((a as { type?: string }).type ?? ''),
      );
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

interface PageSummary {
  title: string;
  text: string;
  elements: string[];
}

/**
 * Runs in the page (as source: the project compiles without DOM types): numbers the visible interactive
 * elements and describes each on one line: `[2] input type=text "" id=name name=name value=""`.
 */
const SUMMARISE_PAGE = `(() => {
  const elements = [];
  let ref = 0;
  for (const el of Array.from(document.querySelectorAll('button, a[href], input, select, textarea, [role=button], [onclick]'))) {
    if (el.getClientRects().length === 0) continue;
    ref += 1;
    el.setAttribute('data-skill-eval-ref', String(ref));
    const tag = el.tagName.toLowerCase();
    const label = (el.getAttribute('aria-label') || el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 80);
    const parts = ['[' + ref + '] ' + tag];
    if (tag === 'input' && el.type) parts.push('type=' + el.type);
    parts.push(JSON.stringify(label));
    if (el.id) parts.push('id=' + el.id);
    if (el.name) parts.push('name=' + el.name);
    if (el.placeholder) parts.push('placeholder=' + JSON.stringify(el.placeholder));
    if (tag === 'input' || tag === 'textarea') parts.push('value=' + JSON.stringify(el.value));
    elements.push(parts.join(' '));
  }
  return { title: document.title, text: ((document.body && document.body.innerText) || '').trim().replace(/\\s+/g, ' ').slice(0, 400), elements };
})()`;

const SYSTEM_PROMPT = [
  'You operate a web page to complete a task.',
  "Each turn you get the task and the page's interactive elements, numbered [n].",
  'Answer with JSON only: {"actions": [...]} where each action is one of',
  '{"type": "click", "ref": n}, {"type": "type", "ref": n, "text": "..."}, {"type": "key", "key": "Enter"} (key presses go to the focused element, or to ref when given).',
  'Answer {"actions": []} when the task is complete.',
].join('\n');

/** Evaluates a contract expression in the page (a string, so it runs as written: globals, not closures). */
async function evaluateExpression(page: Page, expression: string): Promise<unknown> {
  return page.evaluate(`(${expression})`);
}

function locatorFor(page: Page, action: { ref?: number; selector?: string }) {
  if (action.selector) return page.locator(action.selector).first();
  return page.locator(`[data-skill-eval-ref="${action.ref}"]`).first();
}

async function perform(page: Page, action: BrowserAction, timeoutMs: number): Promise<void> {
  if (action.type === 'click') await locatorFor(page, action).click({ timeout: timeoutMs });
  else if (action.type === 'type')
    await locatorFor(page, action).fill(String(action.text ?? ''), { timeout: timeoutMs });
  else if (action.ref !== undefined || action.selector)
    await locatorFor(page, action).press(action.key, { timeout: timeoutMs });
  else await page.keyboard.press(action.key);
}

function toReward(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return 0;
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

export async function browserRollout(params: BrowserParams, context: RolloutContext): Promise<DriverRollout> {
  const count = context.limit === undefined ? params.episodes.length : Math.min(context.limit, params.episodes.length);
  const site = await serveDirectory(context.targetDir);
  let browser: Browser | undefined;
  const samples: Record<string, unknown>[] = [];
  const responses: string[] = [];
  let errors = 0;
  let modelCalls = 0;
  try {
    browser = await launchChromium(params.executable_path);
    for (let index = 0; index < count; index++) {
      const episode = params.episodes[index]!;
      const browserContext = await browser.newContext({ viewport: params.viewport });
      const page = await browserContext.newPage();
      const deadline = Date.now() + params.episode_timeout_sec * 1000;
      const replies: string[] = [];
      const actions: BrowserAction[] = [];
      let firstPrompt = '';
      let utterance = episode.utterance ?? '';
      let error: string | undefined;
      let steps = 0;
      try {
        await page.goto(`${site.url}/${episode.page.replace(/^\/+/, '')}`, {
          timeout: params.episode_timeout_sec * 1000,
        });
        await page.waitForFunction(`Boolean(${params.ready})`, undefined, {
          timeout: Math.max(1000, deadline - Date.now()),
        });
        if (params.start) await evaluateExpression(page, params.start);
        if (!episode.utterance && params.utterance)
          utterance = String((await evaluateExpression(page, params.utterance)) ?? '');
        for (steps = 0; steps < params.max_steps && Date.now() < deadline; ) {
          if (toReward(await evaluateExpression(page, params.done)) !== 0) break;
          const summary = (await page.evaluate(SUMMARISE_PAGE)) as PageSummary;
          const prompt = [
            `Task: ${utterance}`,
            `Page: ${summary.title}`,
            `Text: ${summary.text}`,
            'Page elements:',
            ...summary.elements,
            '',
            'Answer with JSON: {"actions": [...]}',
          ].join('\n');
          if (!firstPrompt) firstPrompt = prompt;
          const messages: ChatMessage[] = [
            { role: 'system', content: SYSTEM_PROMPT },
            { role: 'user', content: prompt },
          ];
          steps++;
          const reply = await context.model.complete(messages, {
            maxTokens: params.max_tokens,
            temperature: params.temperature,
            signal: context.signal,
            gold:
              episode.gold && steps === 1 ? JSON.stringify({ actions: episode.gold }) : JSON.stringify({ actions: [] }),
          });
          if (!context.model.canary) modelCalls++;
          replies.push(reply);
          responses.push(reply);
          const parsed = parseActions(reply);
          // No actions (or nothing readable) ends the episode: the model says it is done or cannot act.
          if (!parsed || parsed.length === 0) break;
          for (const action of parsed) {
            actions.push(action);
            await perform(page, action, 5000).catch((actionError: Error) => {
              error = `action ${JSON.stringify(action)} failed: ${actionError.message.split('\n')[0]}`;
            });
          }
          await page.waitForTimeout(50);
        }
      } catch (episodeError) {
        errors++;
        error = (episodeError as Error).message.split('\n')[0];
        if (episodeError instanceof InfraError && !episodeError.retryable) throw episodeError;
      }
      const reward = toReward(await evaluateExpression(page, params.reward).catch(() => 0));
      const done = toReward(await evaluateExpression(page, params.done).catch(() => false)) !== 0;
      await browserContext.close();
      samples.push({
        id: episodeId(params, index),
        index,
        page: episode.page,
        utterance,
        prompt: firstPrompt || `Task: ${utterance}`,
        completion: replies.join('\n'),
        actions,
        steps,
        done,
        reward,
        error,
      });
      context.log(`[rollout] episode ${episodeId(params, index)}: reward ${reward}${error ? ` (${error})` : ''}`);
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
    counts: { samples: samples.length, dataset_rows: params.episodes.length, errors, model_calls: modelCalls },
    expectedSamples: count,
    fromDataset: (sample) => sample.id !== undefined && ids.has(String(sample.id)),
    modelResponses: context.model.canary ? undefined : responses,
    notes: [`${count} of ${params.episodes.length} episodes in Chromium (${CHROMIUM_ARGS.join(' ')})`],
  };
}

/** Aggregates the rewards the pages reported during the rollout (read by the runner, not written by the model). */
export async function browserEvaluate(
  _params: BrowserParams,
  primaryMetric: string,
  context: DriverContext,
): Promise<DriverEvaluation> {
  const read = await readSamples(context.samplesPath);
  if (read.samples.length === 0)
    return {
      metrics: {},
      counts: { samples: 0 },
      scoreSource: 'driver:browser',
      notes: [],
      failure: {
        stage: 'evaluate',
        code: read.missing ? 'samples_missing' : 'samples_no_valid_lines',
        message: `no episodes in ${context.samplesPath}`,
        class: 'integrity',
      },
    };
  const rewards = read.samples.map((s) => (typeof s.reward === 'number' ? s.reward : 0));
  const successes = rewards.filter((r) => r >= 1).length;
  const metrics = {
    success_rate: successes / rewards.length,
    mean_reward: rewards.reduce((a, b) => a + b, 0) / rewards.length,
  };
  return {
    score: metrics[primaryMetric as keyof typeof metrics],
    metrics,
    counts: { samples: rewards.length, correct: successes },
    scoreSource: 'driver:browser (page reward expression)',
    successes: primaryMetric === 'success_rate' ? successes : undefined,
    notes: [],
  };
}
