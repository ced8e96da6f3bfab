import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claudeAgent } from '../../src/agents/claude.js';
import type { Task } from '../../src/task/types.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { closedPort, type ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { expectHandFix, expectSkillWorkflow, loadSuperlint, runAgentTrial, superlintSkillMarker } from './harness.js';

const KEY = 'sk-ant-test-0123456789';

describe('claude harness (real Claude Code against a scripted Anthropic server)', () => {
  let task: Task;
  let marker: string;
  let server: ModelServer | undefined;

  beforeAll(async () => {
    await claudeAgent.install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('declares what the lifecycle needs', () => {
    expect(claudeAgent.requiredEnv).toEqual(['ANTHROPIC_API_KEY']);
    expect(claudeAgent.skillDirs).toEqual(['.claude/skills']);
    expect(claudeAgent.usesSolution).toBe(false);
  });

  it('with the skill: opens it with the Skill tool, runs check → fix → verify, passes; usage and cost are the CLI’s', async () => {
    server = await startAnthropicServer(superlintScript(claudeDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'with-skills',
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url },
    });
    expectSkillWorkflow(run, server);
    const skillCall = run.log.find((e) => e.type === 'tool_call' && e.tool === 'Skill');
    expect(skillCall).toMatchObject({ input: { skill: 'superlint' } });
    const sent = server.sentUsage();
    expect(run.result.usage).toMatchObject({
      inputTokens: sent.input,
      cachedInputTokens: sent.cached,
      outputTokens: sent.output,
      costEstimated: false,
    });
    expect(run.result.usage?.costUsd).toBeGreaterThan(0);
    expect(run.result.agent_result?.model_calls).toBe(server.requests.filter((r) => r.main).length);
    // The key reached the server in its header, and nowhere in what was persisted.
    expect(server.requests.find((r) => r.main)?.headers['x-api-key']).toBe(KEY);
    expect(JSON.stringify(run.log)).not.toContain(KEY);
  });

  it('without the skill: fixes by hand, fails the verifier, activates nothing', async () => {
    server = await startAnthropicServer(superlintScript(claudeDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'claude',
      task,
      arm: 'no-skills',
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url },
    });
    expectHandFix(run);
    expect(server.requests.filter((r) => r.main).every((r) => !JSON.stringify(r.body).includes(marker))).toBe(true);
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
      agent: 'claude',
      task,
      arm: 'no-skills',
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` },
      agentTimeoutSec: 90,
    });
    expect(run.result.status).toBe('agent_error');
    expect(run.result.error?.message).toMatch(/claude failed before its first model call/);
    expect(run.result.error?.message).toMatch(/Unable to connect|ConnectionRefused|connect/i);
    expect(Date.now() - started).toBeLessThan(90_000);
  });
});
