import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { claudeAgent } from '../../src/agents/claude.js';
import { codexAgent } from '../../src/agents/codex.js';
import { geminiAgent } from '../../src/agents/gemini.js';
import { opencodeAgent } from '../../src/agents/opencode.js';
import type { Agent } from '../../src/agents/types.js';
import type { ModelCallRecord } from '../../src/gateway/types.js';
import type { TrialResult } from '../../src/results/schema.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { geminiDialect, startGeminiServer } from '../fixtures/model-servers/gemini.js';
import { opencodeDialect, startChatServer } from '../fixtures/model-servers/openai-chat.js';
import { codexDialect, startResponsesServer } from '../fixtures/model-servers/openai-responses.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { scanForSecrets } from '../helpers/secret-scan.js';

/** The four CLIs through their trials' gateways: one scripted server each, the real key only on the host. */

export type CliName = 'claude' | 'codex' | 'gemini' | 'opencode';
export const CLIS: CliName[] = ['claude', 'codex', 'gemini', 'opencode'];

export const REAL_KEYS: Record<CliName, string> = {
  claude: 'sk-ant-real-key-for-the-gateway-0001',
  codex: 'sk-openai-real-key-for-the-gateway-02',
  gemini: 'gemini-real-key-for-the-gateway-0003',
  opencode: 'sk-openai-real-key-for-the-gateway-04',
};

export const AGENTS: Record<CliName, Agent> = {
  claude: claudeAgent,
  codex: codexAgent,
  gemini: geminiAgent,
  opencode: opencodeAgent,
};

/** The CLI's scripted server and the env a user would set for it (key + *_BASE_URL at the server). */
export async function upstreamFor(
  cli: CliName,
  marker: string,
): Promise<{ server: ModelServer; env: Record<string, string> }> {
  const key = REAL_KEYS[cli];
  if (cli === 'claude') {
    const server = await startAnthropicServer(superlintScript(claudeDialect, { skillMarker: marker }));
    return { server, env: { ANTHROPIC_API_KEY: key, ANTHROPIC_BASE_URL: server.url } };
  }
  if (cli === 'gemini') {
    const server = await startGeminiServer(superlintScript(geminiDialect, { skillMarker: marker }));
    return { server, env: { GEMINI_API_KEY: key, GOOGLE_GEMINI_BASE_URL: server.url } };
  }
  const server =
    cli === 'codex'
      ? await startResponsesServer(superlintScript(codexDialect, { skillMarker: marker }))
      : await startChatServer(superlintScript(opencodeDialect, { skillMarker: marker }));
  return { server, env: { OPENAI_API_KEY: key, OPENAI_BASE_URL: `${server.url}/v1` } };
}

/** The header each protocol carries its key in, as the scripted server received it. */
export function keyHeader(cli: CliName, server: ModelServer): string | undefined {
  const main = server.requests.find((r) => r.main);
  if (cli === 'claude') return main?.headers['x-api-key'] as string | undefined;
  if (cli === 'gemini') return main?.headers['x-goog-api-key'] as string | undefined;
  return (main?.headers.authorization as string | undefined)?.replace(/^Bearer /, '');
}

export async function modelCalls(trialDir: string): Promise<ModelCallRecord[]> {
  const text = await readFile(join(trialDir, 'model_calls.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ModelCallRecord);
}

/**
 * The agent, and after it, from inside its sandbox and through the same routed exec as the CLI: everything the
 * CLI could see — its env, HOME, the workdir, /tmp, the gateway directory — copied to `into` on the host.
 */
export function seeingAgent(agent: Agent, into: string): Agent {
  return {
    ...agent,
    async run(context) {
      const result = await agent.run(context);
      await mkdir(into, { recursive: true });
      const seen = await context.workspace.exec('env; echo ---; cat /proc/self/environ | tr "\\0" "\\n"', {
        env: context.env,
        callsModelApi: true,
        timeoutMs: 30_000,
      });
      await writeFile(join(into, 'env.txt'), `${seen.stdout}\n${seen.stderr}`);
      const { home, workdir, tmp } = context.paths;
      for (const [name, path] of Object.entries({ home, workdir, tmp }))
        await context.workspace.download(path, join(into, name)).catch(() => false);
      if (context.workspace.gatewayDir)
        await context.workspace.download(context.workspace.gatewayDir, join(into, 'gateway')).catch(() => false);
      return result;
    },
  };
}

/** What every gateway trial must show: usage as the server sent it, every call recorded, the key only upstream. */
export async function expectThroughGateway(options: {
  cli: CliName;
  result: TrialResult;
  trialDir: string;
  server: ModelServer;
  seenDir: string;
}): Promise<void> {
  const { cli, result, trialDir, server, seenDir } = options;
  const sent = server.sentUsage();
  expect(result.usage).toMatchObject({
    source: 'gateway',
    inputTokens: sent.input,
    cachedInputTokens: sent.cached,
    outputTokens: sent.output,
    calls: server.requests.filter((r) => r.usage !== undefined).length,
  });
  expect(result.usage?.agentReported).toBeDefined();
  expect(result.gateway?.agent_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(result.files.model_calls).toBe('model_calls.jsonl');
  const calls = await modelCalls(trialDir);
  // Every request that reached the server is one recorded call, with its usage.
  expect(calls.filter((c) => c.usage !== undefined)).toHaveLength(server.requests.filter((r) => r.usage).length);
  expect(calls.filter((c) => c.usage !== undefined).every((c) => c.status === 200)).toBe(true);
  expect(calls.every((c) => typeof c.request_key === 'string' && c.replayed !== true)).toBe(true);
  // The real key reached the server, and only the server.
  expect(keyHeader(cli, server)).toBe(REAL_KEYS[cli]);
  const env = await readFile(join(seenDir, 'env.txt'), 'utf8');
  expect(env).toMatch(/sk-skill-eval-/);
  expect(await scanForSecrets(seenDir, [REAL_KEYS[cli]])).toEqual([]);
  expect(await scanForSecrets(trialDir, [REAL_KEYS[cli]])).toEqual([]);
}
