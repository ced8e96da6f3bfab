import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { setup } from '../../../src/index.js';
import { type ScriptedServer, startScriptedChatServer } from '../../fixtures/model-servers/openai-chat-scripted.js';
import { listedElements, respondToWebTasks } from '../../fixtures/targets/web-policy.js';

/**
 * The browser driver on MiniWoB++-like pages (tests/fixtures/targets/web-tasks), driven by a scripted policy that
 * acts only on the refs the driver lists. Each `it` is one item of issue #22's list.
 */
const TASKS = resolve(import.meta.dirname, '../../fixtures/targets/web-tasks');
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

type Params = Record<string, unknown>;
const BASE = parseYaml(await readFile(join(TASKS, '.skill-eval/contract.yaml'), 'utf8')) as {
  stages: { rollout: { with: Params } };
  [key: string]: unknown;
};

/** A contract for the web-tasks target with the rollout parameters (and top-level keys) changed. */
async function contractWith(params: Params, top: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skill-eval-web-contract-'));
  const contract = {
    ...BASE,
    // One seed: these tests are about one behaviour each, not about coverage.
    modes: { smoke: { limit: 10, seeds: [1] }, full: { seeds: [1] } },
    ...top,
    stages: {
      rollout: { driver: 'browser', with: { ...BASE.stages.rollout.with, ...params } },
      evaluate: { driver: 'browser' },
    },
  };
  const file = join(dir, 'contract.yaml');
  await writeFile(file, stringify(contract));
  return file;
}

// biome-ignore lint/suspicious/noExplicitAny: sample lines are read as JSON
async function samplesOf(path: string): Promise<Record<string, any>[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

// biome-ignore lint/suspicious/noExplicitAny: log lines are read as JSON
async function modelCalls(dir: string): Promise<Record<string, any>[]> {
  const text = await readFile(join(dir, 'model_calls.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

const lastUser = (body: { messages: { content: unknown }[] }): string => {
  const content = body.messages.at(-1)!.content;
  return typeof content === 'string' ? content : (content as { text?: string }[]).map((p) => p.text ?? '').join('');
};

describe.runIf(haveChromium || process.env.CI === 'true')('browser driver on MiniWoB++-like pages', () => {
  let policy: ScriptedServer;
  let artifactsDir: string;
  beforeAll(async () => {
    policy = await startScriptedChatServer({ respond: respondToWebTasks });
    artifactsDir = await mkdtemp(join(tmpdir(), 'skill-eval-web-artifacts-'));
  });
  afterAll(async () => {
    await policy.close();
  });

  it('a policy that acts only on listed refs solves every page kind over 5 seeds; the empty canary scores ≤ 0', {
    timeout: 300_000,
  }, async () => {
    const env = await setup({ target: TASKS, artifactsDir, baseUrl: policy.baseUrl });
    const r = await env.rollout({ llm: 'scripted-model', mode: 'full', requireSamples: true });
    expect(r.failure).toBeUndefined();
    // modes.full.seeds has 5 seeds: every episode runs once per seed.
    expect(r.counts.samples).toBe(6 * 5);
    const m = await env.evaluate();
    expect(m.ok).toBe(true);
    const breakdown = m.metrics.breakdown as Record<string, { episodes: number; success_rate: number }>;
    expect(Object.keys(breakdown).sort()).toEqual(['click', 'forms', 'multi-step', 'timer', 'widgets']);
    for (const [group, row] of Object.entries(breakdown)) expect(row.success_rate, group).toBeGreaterThanOrEqual(0.95);
    expect(m.score).toBeGreaterThanOrEqual(0.95);
    const samples = await samplesOf(r.samplesPath);
    // Time-discounted successes (0 < reward < 1) count as successes.
    expect(samples.every((s) => s.reward > 0 && s.reward < 1 && s.success === true)).toBe(true);
    // The seed reaches the page, through {seed} in the path and through window.SKILL_EVAL_SEED.
    const utterances = (page: string) =>
      new Set(samples.filter((s) => s.page.startsWith(page)).map((s) => s.utterance));
    expect(utterances('tasks/click-word.html').size).toBeGreaterThan(1);
    expect(samples.find((s) => s.page.startsWith('tasks/click-word.html') && s.seed === 3)?.page).toBe(
      'tasks/click-word.html?seed=3',
    );
    const multi = samples.filter((s) => s.page === 'tasks/multi-step.html');
    expect(new Set(multi.map((s) => s.seed))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(multi.every((s) => s.replies.length >= 2)).toBe(true);

    const empty = await env.rollout({ llm: 'empty', mode: 'full', requireSamples: true, runId: `${env.runId}.empty` });
    expect(empty.ok).toBe(true);
    const e = await env.evaluate({ runId: `${env.runId}.empty` });
    expect(e.ok).toBe(true);
    expect(e.score).toBeLessThanOrEqual(0);
    expect(e.metrics.metrics.mean_reward).toBeLessThanOrEqual(0);
    await env.teardown();
  });

  it('lists listener-only clickables, labelled checkboxes with state, select options apart, with stable refs', {
    timeout: 180_000,
  }, async () => {
    const seen: string[] = [];
    const server = await startScriptedChatServer({
      respond: (body) => {
        seen.push(lastUser(body));
        return respondToWebTasks(body);
      },
    });
    try {
      const contract = await contractWith({
        concurrency: 1,
        episodes: [
          { page: 'tasks/click-word.html?seed=1' },
          { page: 'tasks/checkboxes.html?seed=1' },
          { page: 'tasks/select.html?seed=1' },
          { page: 'tasks/multi-step.html' },
        ],
      });
      const env = await setup({ target: TASKS, contract, artifactsDir, baseUrl: server.baseUrl });
      expect((await env.rollout({ llm: 'scripted-model', mode: 'smoke' })).ok).toBe(true);
      await env.teardown();
    } finally {
      await server.close();
    }
    const [click, boxes, select, multi1, multi2] = seen;
    // <span>s clickable only through addEventListener('click').
    expect(listedElements(click!).filter((e) => e.rest.includes('tag=span'))).toHaveLength(4);
    // Checkboxes named by their wrapping label, with their state; exactly one starts ticked.
    const checkboxes = listedElements(boxes!).filter((e) => e.role === 'checkbox');
    expect(checkboxes.map((e) => e.name.trim()).sort()).toEqual(['black', 'blue', 'green', 'red', 'white']);
    expect(checkboxes.filter((e) => /checked=true/.test(e.rest))).toHaveLength(1);
    // A select is named by its label and its options are listed one per line, not joined into its name.
    const fruit = listedElements(select!).find((e) => e.role === 'combobox')!;
    expect(fruit.name).toBe('Fruit');
    expect(fruit.options.map((o) => o.label)).toEqual(['(choose)', 'Mango', 'Cherry', 'Banana', 'Peach', 'Plum']);
    expect(fruit.options.find((o) => o.selected)?.label).toBe('(choose)');
    // The cursor:pointer div is listed too.
    expect(listedElements(select!).some((e) => e.name === 'Submit')).toBe(true);
    // Second turn of a multi-step episode: the history of the first, and refs that stayed where they were.
    expect(multi2).toMatch(/Earlier steps:\n1\. \{"type":"click","ref":\d+\} → ok/);
    expect(listedElements(multi2!).some((e) => e.role === 'textbox' && e.name === 'Code')).toBe(true);
    const nextRef = listedElements(multi1!).find((e) => e.name === 'Next')!.ref;
    expect(listedElements(multi2!).every((e) => e.ref !== nextRef)).toBe(true);
    // The prompt documents every action, by ref or selector.
    const system = policy.requests[0]?.messages[0]?.content ?? '';
    for (const type of ['click', 'type', 'key', 'select', 'hover', 'scroll', 'drag', 'click_at', 'wait'])
      expect(system).toContain(`"type": "${type}"`);
    expect(system).toContain('"selector"');
  });

  it('feeds invalid actions back to the model as errors, and sends a screenshot when asked', async () => {
    const prompts: { content: unknown }[][] = [];
    const server = await startScriptedChatServer({
      respond: (body) => {
        prompts.push(body.messages);
        if (prompts.length === 1) return '{"actions": [{"type": "click", "ref": 999}, {"type": "fly"}]}';
        if (prompts.length === 2) return 'I am not sure what to do.';
        return respondToWebTasks(body);
      },
    });
    try {
      const contract = await contractWith({
        observation: 'both',
        concurrency: 1,
        episodes: [{ page: 'tasks/timer.html?seed=1' }],
      });
      const env = await setup({ target: TASKS, contract, artifactsDir, baseUrl: server.baseUrl });
      const r = await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true });
      expect(r.ok).toBe(true);
      const [sample] = await samplesOf(r.samplesPath);
      expect(sample!.success).toBe(true);
      await env.teardown();
    } finally {
      await server.close();
    }
    const second = lastUser({ messages: prompts[1]! });
    expect(second).toMatch(/→ error: no element \[999\] on the page/);
    expect(second).toMatch(/→ error: invalid action .*"fly"/);
    expect(lastUser({ messages: prompts[2]! })).toMatch(/→ error: no JSON actions in the reply/);
    const parts = prompts[0]!.at(-1)!.content as { type: string; image_url?: { url: string } }[];
    expect(parts.find((p) => p.type === 'image_url')?.image_url?.url).toMatch(/^data:image\/png;base64,/);
  });

  it('clicks at coordinates and waits (the gold canary on a page with nothing to name)', async () => {
    const file = await contractWith({
      concurrency: 1,
      episodes: [
        {
          page: 'tasks/click-point.html',
          gold: [
            { type: 'wait', ms: 400 },
            { type: 'click_at', x: 130, y: 130 },
          ],
        },
      ],
    });
    const env = await setup({ target: TASKS, contract: file, artifactsDir });
    const r = await env.rollout({ llm: 'gold', mode: 'smoke' });
    expect((await samplesOf(r.samplesPath))[0]).toMatchObject({ success: true, ended_by: 'page' });
    await env.teardown();
  });

  it('success by expression or threshold; negative rewards kept; range enforced; expression errors named', {
    timeout: 120_000,
  }, async () => {
    const threshold = await contractWith({
      success_above: 0.99,
      concurrency: 1,
      episodes: [{ page: 'tasks/timer.html?seed=2&limit=5000' }],
    });
    const env1 = await setup({ target: TASKS, contract: threshold, artifactsDir, baseUrl: policy.baseUrl });
    expect((await env1.rollout({ llm: 'scripted-model', mode: 'smoke' })).ok).toBe(true);
    // A discounted reward (below 1) is below the 0.99 threshold here.
    expect(await env1.evaluate()).toMatchObject({ ok: true, score: 0 });
    await env1.teardown();

    // A wrong click gives −1: kept as given when scoring.range allows it, refused when it does not.
    const wrong = [{ page: 'tasks/timer.html?seed=2', gold: [{ type: 'click', selector: 'button:text-is("Stop")' }] }];
    for (const [range, ok] of [
      [[-1, 1], true],
      [[0, 1], false],
    ] as const) {
      const file = await contractWith(
        { success: 'window.WOB.raw_reward === 1', episodes: wrong },
        {
          scoring: { primary_metric: 'mean_reward', range, kind: 'model_eval' },
        },
      );
      const env = await setup({ target: TASKS, contract: file, artifactsDir });
      expect((await env.rollout({ llm: 'gold', mode: 'smoke' })).ok).toBe(true);
      const m = await env.evaluate();
      if (ok) expect(m).toMatchObject({ ok: true, score: -1 });
      else expect(m.failure).toMatchObject({ code: 'score_out_of_range' });
      await env.teardown();
    }

    const broken = await contractWith({
      reward: 'window.WOB.nothing.here',
      concurrency: 1,
      episodes: [{ page: 'tasks/timer.html' }],
    });
    const env2 = await setup({ target: TASKS, contract: broken, artifactsDir, baseUrl: policy.baseUrl });
    const r2 = await env2.rollout({ llm: 'scripted-model', mode: 'smoke' });
    const [sample] = await samplesOf(r2.samplesPath);
    expect(sample).toMatchObject({ error_code: 'expression_error', reward: null });
    expect(sample!.error).toMatch(
      /reward expression .*window\.WOB\.nothing\.here.*Cannot read properties of undefined/,
    );
    await env2.teardown();
  });

  it('bounds a slow model by the episode deadline, checks done after each reply, names pages that never start', {
    timeout: 120_000,
  }, async () => {
    const replyAfter = (ms: number) => async (body: Parameters<typeof respondToWebTasks>[0]) => {
      await new Promise((r) => setTimeout(r, ms));
      return respondToWebTasks(body);
    };
    const slow = await startScriptedChatServer({ respond: replyAfter(3000) });
    const slower = await startScriptedChatServer({ respond: replyAfter(8000) });
    try {
      // The page's own timer (700 ms) ends the episode while the model thinks: its late click is not performed.
      const timed = await contractWith({ concurrency: 1, episodes: [{ page: 'tasks/timer.html?seed=1&limit=700' }] });
      const env = await setup({ target: TASKS, contract: timed, artifactsDir, baseUrl: slow.baseUrl });
      const r = await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true });
      const [sample] = await samplesOf(r.samplesPath);
      expect(sample).toMatchObject({ done: true, reward: -1, actions: [], ended_by: 'page' });
      await env.teardown();

      // A model slower than episode_timeout_sec is cut off at the deadline.
      const deadline = await contractWith({
        concurrency: 1,
        episode_timeout_sec: 3,
        episodes: [{ page: 'tasks/select.html' }],
      });
      const env2 = await setup({ target: TASKS, contract: deadline, artifactsDir, baseUrl: slower.baseUrl });
      const r2 = await env2.rollout({ llm: 'scripted-model', mode: 'smoke' });
      const [late] = await samplesOf(r2.samplesPath);
      expect(late).toMatchObject({ error_code: 'episode_timeout', success: false });
      // Cut at the 3 s deadline, not after the model's 8 s (the margin is for a loaded machine).
      expect(late!.duration_ms).toBeLessThan(7000);
      await env2.teardown();
    } finally {
      await slow.close();
      await slower.close();
    }

    // Long enough for a page load on a loaded machine (a load cut by the deadline is page_load_failed).
    const missing = await contractWith({
      ready: 'window.WOB && window.WOB.ready',
      episode_timeout_sec: 8,
      episodes: [{ page: 'tasks/nowhere.html' }, { page: 'tasks/broken.html' }],
    });
    const env3 = await setup({ target: TASKS, contract: missing, artifactsDir, baseUrl: policy.baseUrl });
    const r3 = await env3.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true });
    expect((await samplesOf(r3.samplesPath)).map((s) => s.error_code)).toEqual(['page_not_found', 'ready_timeout']);
    expect(r3.failure).toMatchObject({ code: 'episodes_not_started' });
    expect(r3.failure?.message).toMatch(/none of the 2 episodes started.*page_not_found/);
    await env3.teardown();
  });

  it('keeps evidence per episode (trace or screenshots, capped; model calls) and runs episodes in parallel contexts', {
    timeout: 120_000,
  }, async () => {
    const contract = await contractWith({
      concurrency: 3,
      evidence: { screenshots: true, trace: true, max_bytes: 5_000_000 },
      episodes: [
        { page: 'tasks/timer.html?seed={seed}&limit=15000', id: 'timer' },
        { page: 'tasks/multi-step.html', id: 'multi' },
        { page: 'tasks/click-word.html?seed={seed}', id: 'click' },
      ],
    });
    const env = await setup({ target: TASKS, contract, artifactsDir, baseUrl: policy.baseUrl });
    const r = await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true });
    expect(r.ok).toBe(true);
    const samples = await samplesOf(r.samplesPath);
    const dirs = await readdir(join(r.artifactsDir, 'episodes'));
    expect(dirs.sort()).toEqual(samples.map((s) => s.evidence_dir.split('/').at(-1)).sort());
    const multi = samples.find((s) => s.id === 'multi' && s.seed === 1)!;
    const files = await readdir(join(r.artifactsDir, multi.evidence_dir));
    expect(files).toEqual(expect.arrayContaining(['model_calls.jsonl', 'step-1.png', 'step-2.png', 'trace.zip']));
    expect((await stat(join(r.artifactsDir, multi.evidence_dir, 'trace.zip'))).size).toBeLessThan(5_000_000);
    const calls = await modelCalls(join(r.artifactsDir, multi.evidence_dir));
    expect(calls.map((c) => c.response)).toEqual(multi.replies);
    // Episodes overlapped in time: they ran in parallel contexts of one browser.
    const spans = samples.map((s) => [Date.parse(s.started_at), Date.parse(s.started_at) + s.duration_ms] as const);
    const overlapping = spans.some(([a0, a1], i) => spans.some(([b0, b1], j) => i !== j && a0 < b1 && b0 < a1));
    expect(overlapping).toBe(true);
    await env.teardown();
  });
});
