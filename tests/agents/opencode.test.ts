import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findInstalled } from '../../src/agents/cli/install.js';
import { OPENCODE_PACKAGE, opencodeAgent, opencodeConfig } from '../../src/agents/opencode.js';
import type { Task } from '../../src/task/types.js';
import { opencodeDialect, startChatServer } from '../fixtures/model-servers/openai-chat.js';
import { closedPort, type ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { expectHandFix, expectSkillWorkflow, loadSuperlint, runAgentTrial, superlintSkillMarker } from './harness.js';

const KEY = 'sk-openai-test-0123456789';

describe('opencode harness (real OpenCode against a scripted Chat Completions server)', () => {
  let task: Task;
  let marker: string;
  let server: ModelServer | undefined;

  beforeAll(async () => {
    await opencodeAgent.install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('declares what the lifecycle needs; its install carries a ripgrep; the config names one OpenAI-compatible provider', () => {
    expect(opencodeAgent.requiredEnv).toEqual(['OPENAI_API_KEY']);
    expect(opencodeAgent.skillDirs).toEqual(['.agents/skills']);
    const installed = findInstalled(OPENCODE_PACKAGE);
    expect(installed && existsSync(join(installed.root, 'bin', 'rg'))).toBe(true);
    const config = JSON.parse(opencodeConfig('gpt-5', 'http://127.0.0.1:9/v1')) as {
      model: string;
      provider: Record<string, { npm: string; options: { baseURL: string } }>;
    };
    expect(config.model).toBe('skill-eval/gpt-5');
    expect(config.provider['skill-eval']).toMatchObject({
      npm: '@ai-sdk/openai-compatible',
      options: { baseURL: 'http://127.0.0.1:9/v1' },
    });
  });

  it('with the skill: loads it with the skill tool, runs check → fix → verify, passes; usage is what the server sent for the agent loop', async () => {
    server = await startChatServer(superlintScript(opencodeDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'opencode',
      task,
      arm: 'with-skills',
      model: 'gpt-5',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/v1` },
    });
    expectSkillWorkflow(run, server);
    expect(run.log.find((e) => e.type === 'tool_call' && e.tool === 'skill')).toMatchObject({
      input: { name: 'superlint' },
      isError: false,
    });
    // OpenCode's stream reports the agent loop's steps; its title call is not in it.
    const sent = server.sentUsage({ mainOnly: true });
    expect(run.result.usage).toMatchObject({
      inputTokens: sent.input,
      cachedInputTokens: sent.cached,
      outputTokens: sent.output,
      costEstimated: true,
    });
    expect(run.result.agent_result?.model_calls).toBe(server.requests.filter((r) => r.main).length);
    expect(server.requests.find((r) => r.main)?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(run.log)).not.toContain(KEY);
  });

  it('without the skill: fixes by hand, fails the verifier, activates nothing', async () => {
    server = await startChatServer(superlintScript(opencodeDialect, { skillMarker: marker }));
    const run = await runAgentTrial({
      agent: 'opencode',
      task,
      arm: 'no-skills',
      model: 'gpt-5',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/v1` },
    });
    expectHandFix(run);
    const sent = server.sentUsage({ mainOnly: true });
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
      agent: 'opencode',
      task,
      arm: 'no-skills',
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
      agentTimeoutSec: 90,
    });
    expect(run.result.status).toBe('agent_error');
    expect(run.result.error?.message).toMatch(/opencode failed before its first model call/);
    expect(Date.now() - started).toBeLessThan(90_000);
  }, 120_000);
});
