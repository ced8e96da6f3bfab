import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { canonicalRequest, type KeyInput, loadReplay, requestKey, requestKeys } from '../../src/gateway/replay.js';
import type { GatewayStop } from '../../src/gateway/types.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import {
  REAL_KEY,
  send,
  startUpstream,
  TOKEN,
  testGateway,
  upstreamBase,
  WIRES,
  type Wire,
  wireRequest,
} from '../helpers/gateway.js';
import { tempDir } from '../helpers/trials.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function servers(): Promise<Record<Wire, ModelServer>> {
  const entries = await Promise.all(WIRES.map(async (wire) => [wire, await startUpstream(wire)] as const));
  for (const [, server] of entries) cleanup.push(() => server.close());
  return Object.fromEntries(entries) as Record<Wire, ModelServer>;
}

/** Anthropic and Gemini upstreams (OpenAI's two wires need one upstream each, so a recording takes one of them). */
function upstreamsOf(all: Record<Wire, ModelServer>, openai: 'responses' | 'chat' = 'responses') {
  return {
    anthropic: { baseUrl: upstreamBase('anthropic', all.anthropic), apiKey: REAL_KEY },
    gemini: { baseUrl: upstreamBase('gemini', all.gemini), apiKey: REAL_KEY },
    openai: { baseUrl: upstreamBase(openai, all[openai]), apiKey: REAL_KEY },
  };
}

const total = (all: Record<Wire, ModelServer>) => WIRES.reduce((n, wire) => n + all[wire].requests.length, 0);

const keyInput = (text: string): KeyInput => ({
  protocol: 'anthropic',
  endpoint: 'messages',
  method: 'POST',
  path: '/v1/messages',
  body: { model: 'm', messages: [{ role: 'user', content: text }] },
});

describe('gateway: record and replay', () => {
  it('answers from the recording by content, in any order, with zero upstream requests', async () => {
    const all = await servers();
    const recording = await testGateway(upstreamsOf(all));
    const asked = [
      wireRequest('anthropic', TOKEN, { text: 'first' }),
      wireRequest('anthropic', TOKEN, { text: 'second', stream: false }),
      wireRequest('gemini', TOKEN),
      wireRequest('responses', TOKEN),
    ];
    const answers: string[] = [];
    for (const request of asked) answers.push(await (await send(recording.gateway, request)).text());
    const recorded = recording.gateway.usage();
    await recording.gateway.close();
    const before = total(all);

    const replay = await testGateway(upstreamsOf(all), { replay: await loadReplay(recording.callsFile) });
    cleanup.push(() => replay.gateway.close());
    for (const i of [3, 1, 2, 0]) {
      const response = await send(replay.gateway, asked[i]!);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(answers[i]);
    }
    expect(total(all)).toBe(before);
    const usage = replay.gateway.usage();
    expect(usage).toMatchObject({
      calls: 4,
      inputTokens: recorded.inputTokens,
      outputTokens: recorded.outputTokens,
      cachedInputTokens: recorded.cachedInputTokens,
      modelsServed: expect.arrayContaining(recorded.modelsServed),
    });
    expect(replay.gateway.stopped.aborted).toBe(false);
    const calls = await replay.calls();
    expect(calls.every((c) => c.replayed === true && c.attempts === 0)).toBe(true);
  });

  it('ends with replay_miss when a request has no recorded answer, and identical requests use theirs in order', async () => {
    const all = await servers();
    const recording = await testGateway(upstreamsOf(all, 'chat'));
    const same = wireRequest('chat', TOKEN);
    const first = await (await send(recording.gateway, same)).text();
    const second = await (await send(recording.gateway, same)).text();
    expect(first).not.toBe(second); // the scripted server's ids differ per answer
    await recording.gateway.close();

    const replay = await testGateway({}, { replay: await loadReplay(recording.callsFile) });
    cleanup.push(() => replay.gateway.close());
    expect(await (await send(replay.gateway, same)).text()).toBe(first);
    expect(await (await send(replay.gateway, same)).text()).toBe(second);
    expect(replay.gateway.stopped.aborted).toBe(false);
    const miss = await send(replay.gateway, same);
    expect(miss.status).toBe(400);
    expect(await miss.json()).toMatchObject({ error: { code: 'replay_miss' } });
    expect((replay.gateway.stopped.reason as GatewayStop).kind).toBe('replay_miss');
    const other = await send(replay.gateway, wireRequest('chat', TOKEN, { text: 'never asked' }));
    expect(other.status).toBe(400);
  });

  it("matches another trial's request: volatile paths, ids, dates and session fields are normalised", async () => {
    const all = await servers();
    const prompt = (trial: string, uuid: string, date: string) =>
      `cwd ${trial}/workspace; session ${uuid}; Today's date is ${date}. Started ${trial === '/tmp/jobs/trial-aaa' ? '2026-12-02T10:11:12Z' : '2026-12-03T08:00:00.123Z'}`;
    const recorded = wireRequest('anthropic', TOKEN, {
      text: prompt('/tmp/jobs/trial-aaa', '123e4567-e89b-12d3-a456-426614174000', 'Wednesday, December 2, 2026'),
    });
    recorded.body.metadata = { user_id: 'user_1_session_a' };
    const recording = await testGateway(upstreamsOf(all), { volatile: ['/tmp/jobs/trial-aaa'] });
    const answer = await (await send(recording.gateway, recorded)).text();
    await recording.gateway.close();

    const later = wireRequest('anthropic', TOKEN, {
      text: prompt('/tmp/jobs/trial-bbb', '9f0e4567-e89b-12d3-a456-42661417ffff', 'Thursday, December 3, 2026'),
    });
    later.body.metadata = { user_id: 'user_2_session_b' };
    // Key order is not content either.
    later.body = Object.fromEntries(Object.entries(later.body).reverse());
    const replay = await testGateway(
      {},
      { replay: await loadReplay(recording.callsFile), volatile: ['/tmp/jobs/trial-bbb'] },
    );
    cleanup.push(() => replay.gateway.close());
    const response = await send(replay.gateway, later);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(answer);
  });

  it('falls back on a recording that differs in numbers only, exact matches first, each answer used once', async () => {
    const all = await servers();
    const run = (nonce: string) =>
      wireRequest('anthropic', TOKEN, { text: `superlint check: 2 issue(s) [run ${nonce}]` });
    const recording = await testGateway(upstreamsOf(all));
    const answers: string[] = [];
    for (const nonce of ['343548303535', '000000000001'])
      answers.push(await (await send(recording.gateway, run(nonce))).text());
    expect(answers[0]).not.toBe(answers[1]);
    await recording.gateway.close();

    const replay = await testGateway({}, { replay: await loadReplay(recording.callsFile) });
    cleanup.push(() => replay.gateway.close());
    // The second recorded request exactly, then an all-digit nonce no pattern knows: the one answer left.
    expect(await (await send(replay.gateway, run('000000000001'))).text()).toBe(answers[1]);
    expect(await (await send(replay.gateway, run('111122223333'))).text()).toBe(answers[0]);
    const none = await send(replay.gateway, run('999999999999'));
    expect(none.status).toBe(400);
    const calls = await replay.calls();
    expect(calls.map((c) => c.replay_match)).toEqual([undefined, 'loose', undefined]);
    expect(calls.map((c) => c.refused)).toEqual([undefined, undefined, 'replay_miss']);
    // Words still count: a request that differs in more than numbers is a miss.
    expect(requestKeys(keyInput('issues: 2')).looseKey).toBe(requestKeys(keyInput('issues: 7')).looseKey);
    expect(requestKeys(keyInput('issues: 2')).looseKey).not.toBe(requestKeys(keyInput('errors: 2')).looseKey);
  });

  it('keys differ when the conversation differs, not when only volatile parts do', () => {
    const base = {
      protocol: 'openai' as const,
      endpoint: 'chat' as const,
      method: 'POST',
      path: '/v1/chat/completions',
    };
    const key = (body: unknown, volatile: string[] = []) => requestKey({ ...base, body }, volatile);
    expect(key({ a: 1, b: 'x' })).toBe(key({ b: 'x', a: 1 }));
    expect(key({ a: 1, user: 'u1', prompt_cache_key: 'k1' })).toBe(key({ a: 1, user: 'u2', prompt_cache_key: 'k2' }));
    expect(key({ messages: ['in /home/me/t1 at 10:00:01'] }, ['/home/me/t1'])).toBe(
      key({ messages: ['in /home/me/t2 at 11:30:59'] }, ['/home/me/t2']),
    );
    expect(key({ messages: ['lint src/a.sh'] })).not.toBe(key({ messages: ['lint src/b.sh'] }));
    // A nonce a tool prints afresh each run (superlint's `[run …]`) does not make the conversation another one.
    expect(key({ messages: ['2 issue(s) [run 43b3a9f0c1de]'] })).toBe(
      key({ messages: ['2 issue(s) [run 9e01c2d4aa7f]'] }),
    );
    expect(key({ messages: ['exit 12345678'] })).not.toBe(key({ messages: ['exit 87654321'] }));
    // What the CLIs make up per run: Codex's message ids and output wrapper, Gemini CLI's call ids and process groups.
    expect(
      key({ id: 'msg_01a237bc-f767-78a2-ac29-311e3b2c72ce', out: 'Chunk ID: e02b23\nWall time: 0.0233 seconds' }),
    ).toBe(key({ id: 'msg_01a237c1-1b1d-7ac3-a370-0f06ffe4361d', out: 'Chunk ID: a9a23c\nWall time: 0.0000 seconds' }));
    expect(key({ id: 'run_shell_command_1796231432954_0', out: 'Process Group PGID: 94' })).toBe(
      key({ id: 'run_shell_command_1796231704621_0', out: 'Process Group PGID: 96' }),
    );
    const sse = { ...base, path: '/v1beta/models/m:streamGenerateContent?alt=sse', body: {} };
    expect(requestKey(sse)).not.toBe(requestKey({ ...sse, path: '/v1beta/models/m:streamGenerateContent' }));
    expect(canonicalRequest({ ...base, body: { m: 'on 2026-12-02 and Dec 3, 2026' } })).toMatchObject({
      body: { m: 'on <date> and <date>' },
    });
  });

  it('refuses a file that is not a recording with a clear message', async () => {
    const file = join(await tempDir('replay'), 'model_calls.jsonl');
    await writeFile(file, '{"schema":"something-else"}\n');
    await expect(loadReplay(file)).rejects.toThrow(UsageError);
    await expect(loadReplay(file)).rejects.toThrow(/model_calls.jsonl:1: expected a skill-eval\/model-call@1 line/);
    await expect(loadReplay(join(file, 'missing'))).rejects.toThrow(/cannot read the recording/);
  });
});
