import { appendFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { InfraError, UsageError } from '../../../errors.js';
import type { Redactor } from '../../../util/secrets.js';
import type { BrowserParams } from '../../contract.js';
import type { ChatMessage, ModelUnderTest } from '../../model.js';
import { type BrowserAction, parseActions, perform, SYSTEM_PROMPT } from './actions.js';
import { formatElements, summarisePage } from './observe.js';
import { isSuccess, readReward, withSeed } from './reward.js';

/**
 * One episode: a fresh context of the run's browser, the page at its seed, steps until the page says done,
 * the model stops, max_steps or the episode deadline — which bounds the model's calls too. Failures are the
 * episode's (`page_not_found`, `ready_timeout`, `expression_error`, `episode_timeout`, …) unless no episode
 * could ever run (the model's key is refused), which is the rollout's.
 */

export type BrowserEpisode = BrowserParams['episodes'][number];

export interface EpisodeJob {
  index: number;
  seed: number;
  episode: BrowserEpisode;
  id: string;
}

export interface EpisodeEnv {
  browser: Browser;
  siteUrl: string;
  params: BrowserParams;
  model: ModelUnderTest;
  artifactsDir: string;
  redactor: Redactor;
  signal?: AbortSignal | undefined;
}

export interface EpisodeSample {
  id: string;
  index: number;
  seed: number;
  page: string;
  group: string;
  utterance: string;
  prompt: string;
  completion: string;
  /** Each model turn's reply, in order: checked one by one against what the model answered. */
  replies: string[];
  actions: BrowserAction[];
  steps: number;
  done: boolean;
  ended_by: 'page' | 'model' | 'max_steps' | 'error';
  reward: number | null;
  success: boolean;
  started: boolean;
  error?: string | undefined;
  error_code?: string | undefined;
  started_at: string;
  duration_ms: number;
  evidence_dir: string;
  [key: string]: unknown;
}

/** An episode's failure with its stable code. */
export class EpisodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const firstLine = (error: unknown): string => String((error as Error)?.message ?? error).split('\n')[0]!;

/** Evaluates a contract expression in the page; an exception is an `expression_error` naming the expression. */
async function expression(page: Page, what: string, source: string): Promise<unknown> {
  try {
    return await page.evaluate(`(${source})`);
  } catch (error) {
    throw new EpisodeError(
      'expression_error',
      `${what} expression ${JSON.stringify(source)} failed: ${firstLine(error)}`,
    );
  }
}

class Episode {
  readonly started = Date.now();
  readonly deadline: number;
  readonly dir: string;
  readonly relativeDir: string;
  readonly history: string[] = [];
  readonly sample: EpisodeSample;
  evidenceBytes = 0;
  modelCalls = 0;

  constructor(
    readonly env: EpisodeEnv,
    readonly job: EpisodeJob,
  ) {
    const { params } = env;
    this.deadline = this.started + params.episode_timeout_sec * 1000;
    this.relativeDir = join('episodes', `${String(job.index).padStart(3, '0')}-s${job.seed}`);
    this.dir = join(env.artifactsDir, this.relativeDir);
    this.sample = {
      id: job.id,
      index: job.index,
      seed: job.seed,
      page: withSeed(job.episode.page, job.seed),
      group: job.episode.group ?? job.episode.page.split('?')[0]!,
      utterance: job.episode.utterance ?? '',
      prompt: '',
      completion: '',
      replies: [],
      actions: [],
      steps: 0,
      done: false,
      ended_by: 'max_steps',
      reward: null,
      success: false,
      started: false,
      started_at: new Date(this.started).toISOString(),
      duration_ms: 0,
      evidence_dir: this.relativeDir,
    };
  }

  remaining(): number {
    return this.deadline - Date.now();
  }

  expr(page: Page, what: string, source: string): Promise<unknown> {
    return expression(page, what, withSeed(source, this.job.seed));
  }

  async open(page: Page): Promise<void> {
    const { params, siteUrl } = this.env;
    const path = this.sample.page.replace(/^\/+/, '');
    const response = await page
      .goto(`${siteUrl}/${path}`, { timeout: Math.max(1, this.remaining()) })
      .catch((error) => {
        throw new EpisodeError('page_load_failed', `page ${path} did not load: ${firstLine(error)}`);
      });
    if (!response || response.status() >= 400)
      throw new EpisodeError(
        'page_not_found',
        `page ${path} answered HTTP ${response?.status() ?? '?'} (is it under the target root?)`,
      );
    const ready = withSeed(params.ready, this.job.seed);
    await page
      .waitForFunction(`Boolean(${ready})`, undefined, { timeout: Math.max(1, this.remaining()) })
      .catch((error) => {
        if ((error as Error).name === 'TimeoutError')
          throw new EpisodeError(
            'ready_timeout',
            `page ${path}: ready expression ${JSON.stringify(ready)} did not hold within ${params.episode_timeout_sec} s`,
          );
        throw new EpisodeError(
          'expression_error',
          `ready expression ${JSON.stringify(ready)} failed: ${firstLine(error)}`,
        );
      });
    if (params.start) await this.expr(page, 'start', params.start);
    if (!this.job.episode.utterance && params.utterance)
      this.sample.utterance = String((await this.expr(page, 'utterance', params.utterance)) ?? '');
    this.sample.started = true;
  }

  async done(page: Page): Promise<boolean> {
    return Boolean(await this.expr(page, 'done', this.env.params.done));
  }

  async observe(page: Page, cdp: CDPSession): Promise<ChatMessage> {
    const { observation } = this.env.params;
    const lines = [`Task: ${this.sample.utterance}`];
    if (observation !== 'screenshot') {
      const summary = await summarisePage(page, cdp);
      lines.push(
        `Page: ${summary.title}`,
        `Text: ${summary.text}`,
        'Page elements:',
        ...formatElements(summary.elements),
      );
    } else lines.push(`Page: ${await page.title()}`, 'The page is in the screenshot (viewport pixels for click_at).');
    lines.push(
      '',
      'Earlier steps:',
      ...(this.history.length ? this.history : ['(none)']),
      '',
      'Answer with JSON: {"actions": [...]}',
    );
    const message: ChatMessage = { role: 'user', content: lines.join('\n') };
    if (observation !== 'dom')
      message.images = [`data:image/png;base64,${(await page.screenshot({ type: 'png' })).toString('base64')}`];
    return message;
  }

  /** The model's reply, or an `episode_timeout` when the deadline comes first. */
  async ask(messages: ChatMessage[]): Promise<string> {
    const remaining = this.remaining();
    if (remaining <= 0) throw new EpisodeError('episode_timeout', this.timeoutMessage());
    const timeout = AbortSignal.timeout(remaining);
    const signal = this.env.signal ? AbortSignal.any([this.env.signal, timeout]) : timeout;
    const gold =
      this.job.episode.gold && this.sample.steps === 1
        ? JSON.stringify({ actions: this.job.episode.gold })
        : JSON.stringify({ actions: [] });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EpisodeError('episode_timeout', this.timeoutMessage())), remaining);
    });
    try {
      const { params, model } = this.env;
      const call = model.complete(messages, {
        maxTokens: params.max_tokens,
        temperature: params.temperature,
        seed: this.job.seed,
        timeoutMs: remaining,
        signal,
        gold,
      });
      call.catch(() => undefined);
      return await Promise.race([call, expired]);
    } catch (error) {
      if (timeout.aborted) throw new EpisodeError('episode_timeout', this.timeoutMessage());
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  timeoutMessage(): string {
    return `the episode's ${this.env.params.episode_timeout_sec} s (episode_timeout_sec) ran out`;
  }

  async recordCall(messages: ChatMessage[], response: string, error?: string): Promise<void> {
    // Screenshots stay out of the log: they are in the evidence when asked for.
    const logged = messages.map((m) => (m.images ? { ...m, images: m.images.map(() => '[screenshot]') } : m));
    const line = JSON.stringify({
      at: new Date().toISOString(),
      step: this.sample.steps,
      messages: logged,
      response,
      error,
    });
    await appendFile(join(this.dir, 'model_calls.jsonl'), `${this.env.redactor.redact(line)}\n`);
  }

  async screenshot(page: Page): Promise<void> {
    const { evidence } = this.env.params;
    if (!evidence.screenshots || this.evidenceBytes >= evidence.max_bytes) return;
    const png = await page.screenshot({ type: 'png' }).catch(() => undefined);
    if (!png || this.evidenceBytes + png.length > evidence.max_bytes) {
      this.evidenceBytes = evidence.max_bytes;
      return;
    }
    this.evidenceBytes += png.length;
    await writeFile(join(this.dir, `step-${this.sample.steps}.png`), png);
  }

  /** Runs the reply's actions in order; stops when the page says done (a late action must not change the reward). */
  async act(page: Page, reply: string): Promise<'continue' | 'model' | 'page'> {
    if (reply.trim() === '') return 'model';
    const parsed = parseActions(reply);
    const entry = (what: string, result: string) =>
      this.history.push(`${this.history.length + 1}. ${what} → ${result}`);
    if (!parsed) {
      entry(JSON.stringify(reply.slice(0, 60)), 'error: no JSON actions in the reply (answer {"actions": [...]})');
      return 'continue';
    }
    for (const message of parsed.invalid) entry('(reply)', `error: ${message}`);
    if (parsed.actions.length === 0) return parsed.invalid.length ? 'continue' : 'model';
    for (const action of parsed.actions) {
      if (await this.done(page)) return 'page';
      this.sample.actions.push(action);
      const timeout = Math.max(1, Math.min(5000, this.remaining()));
      const result = await perform(page, action, timeout).then(
        () => 'ok',
        (error: unknown) => `error: ${firstLine(error)}`,
      );
      entry(JSON.stringify(action), result);
    }
    await page.waitForTimeout(this.env.params.settle_ms);
    return 'continue';
  }

  async steps(page: Page, cdp: CDPSession): Promise<void> {
    this.sample.ended_by = await this.loop(page, cdp);
  }

  private async loop(page: Page, cdp: CDPSession): Promise<EpisodeSample['ended_by']> {
    const { params } = this.env;
    while (this.sample.steps < params.max_steps) {
      if (await this.done(page)) return 'page';
      const messages: ChatMessage[] = [{ role: 'system', content: SYSTEM_PROMPT }, await this.observe(page, cdp)];
      if (!this.sample.prompt) this.sample.prompt = messages[1]!.content;
      this.sample.steps++;
      const reply = await this.ask(messages).catch(async (error: unknown) => {
        await this.recordCall(messages, '', firstLine(error));
        throw error;
      });
      if (!this.env.model.canary) this.modelCalls++;
      this.sample.replies.push(reply);
      await this.recordCall(messages, reply);
      // The page may have ended the episode (its own timer) while the model was answering.
      if (await this.done(page)) return 'page';
      const outcome = await this.act(page, reply);
      await this.screenshot(page);
      if (outcome !== 'continue') return outcome;
    }
    return 'max_steps';
  }

  async finish(page: Page): Promise<void> {
    const { params } = this.env;
    try {
      this.sample.done = await this.done(page);
      this.sample.reward = readReward(await this.expr(page, 'reward', params.reward));
    } catch (error) {
      const message =
        error instanceof EpisodeError
          ? error.message
          : `reward expression ${JSON.stringify(params.reward)} ${firstLine(error)}`;
      this.fail(new EpisodeError('expression_error', message));
      this.sample.reward = null;
    }
    let success: unknown;
    if (params.success)
      success = await this.expr(page, 'success', params.success).catch((error: EpisodeError) => {
        this.fail(error);
        return false;
      });
    this.sample.success =
      this.sample.error_code === undefined &&
      isSuccess(this.sample.reward ?? undefined, success, params.success_above, params.success !== undefined);
  }

  fail(error: unknown): void {
    if (this.sample.error_code !== undefined) return;
    this.sample.error = firstLine(error);
    this.sample.error_code = error instanceof EpisodeError ? error.code : 'episode_error';
    this.sample.ended_by = 'error';
  }
}

async function stopTrace(context: BrowserContext, episode: Episode): Promise<void> {
  const { evidence } = episode.env.params;
  if (!evidence.trace) return;
  const path = join(episode.dir, 'trace.zip');
  await context.tracing.stop({ path });
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (episode.evidenceBytes + size > evidence.max_bytes) {
    await rm(path, { force: true });
    await writeFile(join(episode.dir, 'trace.omitted.txt'), `trace.zip was ${size} bytes, over evidence.max_bytes\n`);
  }
}

/** Runs one episode to its sample; throws only what no episode could survive (a refused key, a usage error). */
export async function runEpisode(
  env: EpisodeEnv,
  job: EpisodeJob,
): Promise<{ sample: EpisodeSample; modelCalls: number }> {
  const episode = new Episode(env, job);
  await mkdir(episode.dir, { recursive: true });
  await writeFile(join(episode.dir, 'model_calls.jsonl'), '');
  const context = await env.browser.newContext({ viewport: env.params.viewport });
  try {
    await context.addInitScript(`window.SKILL_EVAL_SEED = ${job.seed};`);
    if (env.params.evidence.trace) await context.tracing.start({ screenshots: true, snapshots: true });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    try {
      await episode.open(page);
      await episode.steps(page, cdp);
    } catch (error) {
      if ((error instanceof InfraError && !error.retryable) || error instanceof UsageError) throw error;
      episode.fail(error);
    }
    if (episode.sample.started) await episode.finish(page);
    await stopTrace(context, episode).catch(() => undefined);
  } finally {
    await context.close().catch(() => undefined);
  }
  episode.sample.duration_ms = Date.now() - episode.started;
  episode.sample.completion = episode.sample.replies.join('\n');
  if (!episode.sample.prompt) episode.sample.prompt = `Task: ${episode.sample.utterance}`;
  return { sample: episode.sample, modelCalls: episode.modelCalls };
}
