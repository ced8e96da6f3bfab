import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../../src/index.js';
import { parseActions, serveDirectory } from '../../../src/targets/drivers/browser.js';
import { type ScriptedServer, startScriptedChatServer } from '../../fixtures/model-servers/openai-chat-scripted.js';
import { respondToFixtures } from '../../fixtures/targets/scripted-responder.js';

const BENCH = resolve(import.meta.dirname, '../../fixtures/targets/browser-bench');
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI !== 'true')
  console.warn(`skipping browser episodes: no Chromium at ${CHROMIUM} (apt-get install -y chromium; present in CI)`);

describe('browser driver helpers', () => {
  it('reads actions from bare, fenced and embedded JSON', () => {
    expect(parseActions('{"actions": [{"type": "click", "ref": 2}]}')?.actions).toEqual([{ type: 'click', ref: 2 }]);
    expect(parseActions('Sure:\n```json\n[{"type": "key", "key": "Enter"}]\n```')?.actions).toEqual([
      { type: 'key', key: 'Enter' },
    ]);
    const embedded = parseActions(
      'I will do {"actions": [{"type": "type", "ref": 1, "text": "x"}, {"type": "dance"}]} now',
    );
    expect(embedded?.actions).toEqual([{ type: 'type', ref: 1, text: 'x' }]);
    expect(embedded?.invalid).toHaveLength(1);
    expect(parseActions('no json here')).toBeUndefined();
  });

  it('serves the target directory and nothing outside it', async () => {
    const site = await serveDirectory(BENCH);
    try {
      expect((await fetch(`${site.url}/tasks/click-button.html`)).status).toBe(200);
      expect((await fetch(`${site.url}/tasks/missing.html`)).status).toBe(404);
      expect((await fetch(`${site.url}/..%2F..%2Fpackage.json`)).status).toBe(403);
    } finally {
      await site.close();
    }
  });
});

describe.runIf(haveChromium || process.env.CI === 'true')('browser driver in headless Chromium', () => {
  let model: ScriptedServer;
  beforeAll(async () => {
    model = await startScriptedChatServer({ respond: respondToFixtures });
  });
  afterAll(async () => {
    await model.close();
  });

  it('a model that reads the DOM summary solves all three tasks; gold 1, empty 0', { timeout: 180_000 }, async () => {
    const artifactsDir = await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-'));
    const env = await setup({ target: BENCH, artifactsDir, baseUrl: model.baseUrl });
    const r = await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true });
    expect(r).toMatchObject({ ok: true, counts: { samples: 3, errors: 0 } });
    const m = await env.evaluate();
    expect(m.metrics).toMatchObject({
      ok: true,
      score: 1,
      metrics: { success_rate: 1, mean_reward: 1 },
      scoreSource: expect.stringMatching(/^driver:browser/),
    });
    const samples = (await readFile(r.samplesPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(samples.map((s) => [s.id, s.reward, s.done])).toEqual([
      ['tasks/click-button.html', 1, true],
      ['tasks/type-name.html', 1, true],
      ['tasks/press-enter.html', 1, true],
    ]);
    expect(samples[1].prompt).toMatch(
      /Task: Type "Ada" into the name field and press Submit[\s\S]*Page elements:\n\[1\] textbox "Name" value="" placeholder="Your name" id=name\n\[2\] button "Submit" id=submit/,
    );
    expect(model.requests.length).toBeGreaterThanOrEqual(3);

    for (const [llm, score] of [
      ['gold', 1],
      ['empty', 0],
    ] as const) {
      const runId = `${env.runId}.${llm}`;
      expect((await env.rollout({ llm, mode: 'full', runId })).ok).toBe(true);
      expect(await env.evaluate({ runId })).toMatchObject({ ok: true, score });
    }
    await env.teardown();
  });
});
