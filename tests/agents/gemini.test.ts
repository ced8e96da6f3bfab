import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { geminiAgent, geminiSettings } from '../../src/agents/gemini.js';
import type { Task } from '../../src/task/types.js';
import { geminiDialect, startGeminiServer } from '../fixtures/model-servers/gemini.js';
import { closedPort, type ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { expectHandFix, expectSkillWorkflow, loadSuperlint, runAgentTrial, superlintSkillMarker } from './harness.js';

const KEY = 'gemini-test-key-0123456789';

describe('gemini harness (real Gemini CLI against a scripted Gemini API server)', () => {
  let task: Task;
  let marker: string;
  let server: ModelServer | undefined;

  beforeAll(async () => {
    await geminiAgent.install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('declares what the lifecycle needs and selects API-key auth with few retries', () => {
    expect(geminiAgent.requiredEnv).toEqual(['GEMINI_API_KEY']);
    expect(geminiAgent.skillDirs).toEqual(['.gemini/skills']);
    expect(JSON.parse(geminiSettings())).toMatchObject({
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      general: { maxAttempts: 3 },
    });
  });

  it('with the skill: activates it, runs check → fix → verify, passes; usage is what the server sent, cost estimated', async () => {
    server = await startGeminiServer(superlintScript(geminiDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'gemini',
      task,
      arm: 'with-skills',
      env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: server.url },
    });
    expectSkillWorkflow(run, server);
    expect(run.log.find((e) => e.type === 'tool_call' && e.tool === 'activate_skill')).toMatchObject({
      input: { name: 'superlint' },
    });
    const sent = server.sentUsage();
    expect(run.result.usage).toMatchObject({
      inputTokens: sent.input,
      cachedInputTokens: sent.cached,
      outputTokens: sent.output,
      costEstimated: true,
    });
    const expectedCost = ((sent.input - sent.cached) * 1.25 + sent.cached * 0.31 + sent.output * 10) / 1e6;
    expect(run.result.usage?.costUsd).toBeCloseTo(expectedCost, 6);
    expect(run.result.agent_result?.model_calls).toBe(server.requests.filter((r) => r.main).length);
    expect(server.requests.find((r) => r.main)?.headers['x-goog-api-key']).toBe(KEY);
    expect(server.requests.find((r) => r.main)?.url).toMatch(/gemini-2\.5-pro:streamGenerateContent/);
  });

  it('without the skill: fixes by hand, fails the verifier, activates nothing', async () => {
    server = await startGeminiServer(superlintScript(geminiDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'gemini',
      task,
      arm: 'no-skills',
      model: 'gemini-2.5-flash',
      env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: server.url },
    });
    expectHandFix(run);
    const sent = server.sentUsage();
    expect(run.result.usage).toMatchObject({
      inputTokens: sent.input,
      cachedInputTokens: sent.cached,
      outputTokens: sent.output,
    });
    expect(server.requests.find((r) => r.main)?.url).toMatch(/gemini-2\.5-flash:streamGenerateContent/);
  });

  it('an unreachable endpoint ends as agent_error, before the first model call, well within the agent timeout', async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = await runAgentTrial({
      agent: 'gemini',
      task,
      arm: 'no-skills',
      env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${port}` },
      agentTimeoutSec: 110,
    });
    expect(run.result.status).toBe('agent_error');
    expect(run.result.error?.message).toMatch(/gemini failed before its first model call/);
    expect(Date.now() - started).toBeLessThan(110_000);
  }, 150_000);
});
