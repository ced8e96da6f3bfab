import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { setup } from '../../src/index.js';
import { ModelGateway, openModel } from '../../src/targets/model.js';

const ROOT = resolve(import.meta.dirname, '../..');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('models under test', () => {
  it('serves a local model with a command, waits for it, and stops it at teardown', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}/v1`;
    const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const env = await setup({
      target: join(ROOT, 'tests/fixtures/targets/code-bench'),
      artifactsDir: await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-')),
    });
    const r = await env.rollout({
      llm: {
        serve: {
          command: `PORT=${port} exec node --import ${loader} tests/fixtures/model-servers/serve-scripted.ts`,
          cwd: ROOT,
          baseUrl,
          model: 'scripted-model',
          readyTimeoutSec: 60,
        },
      },
      mode: 'smoke',
      requireSamples: true,
    });
    expect(r).toMatchObject({ ok: true, model: { name: 'scripted-model', kind: 'served', base_url: baseUrl } });
    expect(await env.evaluate()).toMatchObject({ ok: true, score: 2 / 3 });
    await env.teardown();
    const after = await fetch(`${baseUrl}/models`).then(
      (res) => res.status,
      () => 'down',
    );
    expect(after).toBe('down');
  });

  it('a model name needs an endpoint; the gateway refuses other tokens and records calls', async () => {
    const saved = { a: process.env.OPENAI_BASE_URL, b: process.env.SKILL_EVAL_MODEL_BASE_URL };
    delete process.env.OPENAI_BASE_URL;
    delete process.env.SKILL_EVAL_MODEL_BASE_URL;
    try {
      await expect(openModel('gpt-x')).rejects.toThrow(/--llm gpt-x: no endpoint for this model/);
    } finally {
      if (saved.a !== undefined) process.env.OPENAI_BASE_URL = saved.a;
      if (saved.b !== undefined) process.env.SKILL_EVAL_MODEL_BASE_URL = saved.b;
    }
    const gateway = new ModelGateway(await openModel('empty'));
    const url = await gateway.start();
    try {
      const denied = await fetch(`${url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer nope' },
        body: '{}',
      });
      expect(denied.status).toBe(401);
      const ok = await fetch(`${url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gateway.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      });
      expect(await ok.text()).toMatch(/^data: .*"content":""[\s\S]*data: \[DONE\]/);
      expect(gateway.calls).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });
});
