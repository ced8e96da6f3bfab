import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codexAgent, codexConfig, unwrapShell } from '../../src/agents/codex.js';
import type { Task } from '../../src/task/types.js';
import { codexDialect, startResponsesServer } from '../fixtures/model-servers/openai-responses.js';
import { closedPort, type ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { expectHandFix, expectSkillWorkflow, loadSuperlint, runAgentTrial, superlintSkillMarker } from './harness.js';

const KEY = 'sk-openai-test-0123456789';

describe('codex harness (real Codex CLI against a scripted OpenAI Responses server)', () => {
  let task: Task;
  let marker: string;
  let server: ModelServer | undefined;

  beforeAll(async () => {
    await codexAgent.install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('declares what the lifecycle needs and writes a config that turns login shells and retries down', () => {
    expect(codexAgent.requiredEnv).toEqual(['OPENAI_API_KEY']);
    expect(codexAgent.skillDirs).toEqual(['.agents/skills']);
    const config = codexConfig('gpt-5', 'http://127.0.0.1:9/v1');
    expect(config).toMatch(/allow_login_shell = false/);
    expect(config).toMatch(/base_url = "http:\/\/127\.0\.0\.1:9\/v1"/);
    expect(config).toMatch(/wire_api = "responses"/);
    expect(codexConfig('gpt-5', undefined)).toMatch(/base_url = "https:\/\/api\.openai\.com\/v1"/);
    expect(unwrapShell("/bin/bash -c 'superlint check'")).toBe('superlint check');
    expect(unwrapShell("/bin/bash -lc 'echo '\\''hi'\\'''")).toBe("echo 'hi'");
    expect(unwrapShell('ls -la')).toBe('ls -la');
  });

  it('with the skill: reads SKILL.md, runs check → fix → verify, passes; usage is what the server sent, cost estimated', async () => {
    server = await startResponsesServer(superlintScript(codexDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'codex',
      task,
      arm: 'with-skills',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/v1` },
    });
    expectSkillWorkflow(run, server);
    expect(run.log.some((e) => e.type === 'command' && e.command === 'cat .agents/skills/superlint/SKILL.md')).toBe(
      true,
    );
    const sent = server.sentUsage();
    expect(run.result.usage).toMatchObject({
      inputTokens: sent.input,
      cachedInputTokens: sent.cached,
      outputTokens: sent.output,
    });
    expect(server.requests.find((r) => r.main)?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(run.log)).not.toContain(KEY);
  });

  it('prices the run from the table when the model is in it', async () => {
    server = await startResponsesServer(superlintScript(codexDialect, { skillMarker: marker }));
    const { result } = await runAgentTrial({
      agent: 'codex',
      task,
      arm: 'no-skills',
      model: 'gpt-5',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/v1` },
    });
    const sent = server.sentUsage();
    const expected = ((sent.input - sent.cached) * 1.25 + sent.cached * 0.125 + sent.output * 10) / 1e6;
    expect(result.usage?.costEstimated).toBe(true);
    expect(result.usage?.costUsd).toBeCloseTo(expected, 6);
    expect((server.requests.find((r) => r.main)?.body as { model?: string } | undefined)?.model).toBe('gpt-5');
  });

  it('without the skill: fixes by hand, fails the verifier, activates nothing', async () => {
    server = await startResponsesServer(superlintScript(codexDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'codex',
      task,
      arm: 'no-skills',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/v1` },
    });
    expectHandFix(run);
    const sent = server.sentUsage();
    expect(run.result.usage).toMatchObject({
      inputTokens: sent.input,
      cachedInputTokens: sent.cached,
      outputTokens: sent.output,
    });
  });

  it('an unreachable endpoint ends as agent_error, before the first model call, well within the agent timeout', async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = await runAgentTrial({
      agent: 'codex',
      task,
      arm: 'no-skills',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
      agentTimeoutSec: 90,
    });
    expect(run.result.status).toBe('agent_error');
    expect(run.result.error?.message).toMatch(/codex failed before its first model call/);
    expect(Date.now() - started).toBeLessThan(90_000);
  });
});
