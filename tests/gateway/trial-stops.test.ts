import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claudeAgent } from '../../src/agents/claude.js';
import type { Agent } from '../../src/agents/types.js';
import type { Task } from '../../src/task/types.js';
import { loadSuperlint, runAgentTrial, superlintSkillMarker } from '../agents/harness.js';
import { closedPort, type ModelServer } from '../fixtures/model-servers/server.js';
import { tempDir } from '../helpers/trials.js';
import { modelCalls, REAL_KEYS, upstreamFor } from './trial-helpers.js';

/**
 * What the gateway does to a trial (Claude Code, local provider, superlint_demo offline): a budget stops the agent
 * and the trial is still verified; an upstream 429 is retried; a dead upstream is a retryable infra error; a
 * recording answers a replay with no request upstream; a wrong token is refused from inside the sandbox.
 */
describe('the model gateway in a trial: stops, retries, replay, auth', () => {
  let task: Task;
  let marker: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    await claudeAgent.install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function claudeUpstream(): Promise<{ server: ModelServer; env: Record<string, string> }> {
    const upstream = await upstreamFor('claude', marker);
    closers.push(() => upstream.server.close());
    return upstream;
  }

  it('--max-cost-per-trial 0.0001 stops the agent at its first call: budget_exceeded, verified anyway', async () => {
    const { server, env } = await claudeUpstream();
    const run = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'with-skills',
      env,
      gateway: { maxCostPerTrial: 0.0001 },
    });
    expect(run.result.status).toBe('budget_exceeded');
    expect(run.result.error).toMatchObject({ kind: 'budget_exceeded', phase: 'agent' });
    expect(run.result.error?.message).toMatch(/--max-cost-per-trial 0.0001/);
    expect(run.result.gateway?.stop?.kind).toBe('budget_exceeded');
    // Verified: the verifier ran and gave its reward (the work was not done).
    expect(run.result.verifier).toBeDefined();
    expect(run.result.reward).toBe(0);
    // The first call was answered (it was paid for); none reached the server after it.
    expect(server.requests.filter((r) => r.main)).toHaveLength(1);
    expect(run.result.usage?.costUsd).toBeGreaterThan(0.0001);
  }, 180_000);

  it('an upstream 429 is retried by the gateway and counted; the trial passes', async () => {
    const { server } = await claudeUpstream();
    let refused = 0;
    const flaky: Server = createServer((req, res) => {
      if (refused === 0 && req.method === 'POST') {
        refused += 1;
        req.resume();
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
        return;
      }
      const upstream = httpRequest(`${server.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => flaky.close(() => resolve())));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    const run = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'with-skills',
      env: { ANTHROPIC_API_KEY: REAL_KEYS.claude, ANTHROPIC_BASE_URL: url },
      gateway: { retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 } },
    });
    expect(refused).toBe(1);
    expect(run.result.status, JSON.stringify(run.result.error)).toBe('passed');
    expect(run.result.usage?.retries).toBe(1);
  }, 180_000);

  it('an upstream that stays down is an infra error, retryable (the job runs the trial again)', async () => {
    const port = await closedPort();
    const run = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'no-skills',
      env: { ANTHROPIC_API_KEY: REAL_KEYS.claude, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` },
      gateway: { retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 } },
      agentTimeoutSec: 120,
    });
    expect(run.result.status).toBe('infra_error');
    expect(run.result.error).toMatchObject({ kind: 'infra', phase: 'agent', retryable: true });
    expect(run.result.gateway?.stop?.kind).toBe('upstream_failed');
  }, 180_000);

  // The no-skills arm: `superlint check` prints a fresh nonce (`[run 1a2b…]`) every run, so a with-skills
  // conversation differs from its recording at its third call by design of the task (a replay miss).
  it('a recorded trial replays with the same reward and no request upstream, even without a key', async () => {
    const { server, env } = await claudeUpstream();
    const recorded = await runAgentTrial({ agent: 'claude', task, arm: 'no-skills', env, gateway: {} });
    expect(recorded.result.status).toBe('failed');
    const before = server.requests.length;
    const fresh = await claudeUpstream();
    const replayed = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'no-skills',
      // No key at all; the base URL points at a server that must see nothing.
      env: { ANTHROPIC_BASE_URL: fresh.server.url },
      gateway: { replayFile: join(recorded.trialDir, 'model_calls.jsonl') },
    });
    expect(replayed.result.status, JSON.stringify(replayed.result.error)).toBe('failed');
    expect(replayed.result.reward).toBe(recorded.result.reward);
    expect(fresh.server.requests).toHaveLength(0);
    expect(server.requests).toHaveLength(before);
    const calls = await modelCalls(replayed.trialDir);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.usage).every((c) => c.replayed === true)).toBe(true);
    expect(replayed.result.usage?.inputTokens).toBe(recorded.result.usage?.inputTokens);
  }, 240_000);

  it('a replay with nothing recorded for a request ends as replay_miss, not as a failure', async () => {
    const run = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'with-skills',
      env: {},
      gateway: { replayFile: join(await tempDir('gw-no-recording'), 'model_calls.jsonl') },
    });
    expect(run.result.status).toBe('replay_miss');
    expect(run.result.error?.kind).toBe('replay_miss');
    expect(run.result.verifier).toBeDefined();
  }, 180_000);

  it('from inside the sandbox, a wrong token is refused and the trial token works', async () => {
    const { server, env } = await claudeUpstream();
    const probe = (token: string) =>
      `exec 3<>"/dev/tcp/127.0.0.1/\${ANTHROPIC_BASE_URL##*:}"; body='{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'; printf 'POST /v1/messages HTTP/1.0\\r\\nx-api-key: %s\\r\\ncontent-type: application/json\\r\\nanthropic-version: 2023-06-01\\r\\ncontent-length: %s\\r\\n\\r\\n%s' "${token}" "\${#body}" "$body" >&3; head -n 1 <&3`;
    const prober: Agent = {
      ...claudeAgent,
      name: 'prober',
      async run(context) {
        const wrong = await context.workspace.exec(probe('sk-wrong-token-000000'), {
          env: context.env,
          callsModelApi: true,
          timeoutMs: 30_000,
        });
        const right = await context.workspace.exec(probe('$ANTHROPIC_API_KEY'), {
          env: context.env,
          callsModelApi: true,
          timeoutMs: 30_000,
        });
        return { events: [], finalMessage: `wrong=${wrong.stdout.trim()} right=${right.stdout.trim()}` };
      },
    };
    const run = await runAgentTrial({ agent: prober, task, arm: 'no-skills', env, gateway: {} });
    const message = run.result.agent_result?.final_message ?? '';
    expect(message).toMatch(/wrong=HTTP\/1\.[01] 401/);
    expect(message).toMatch(/right=HTTP\/1\.[01] 200/);
    // Only the right one reached the server.
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  }, 120_000);
});
