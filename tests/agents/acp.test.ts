import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAcpAgent } from '../../src/agents/acp/agent.js';
import { ACP_BRIDGE_PACKAGE } from '../../src/agents/acp/package.js';
import { type AgentPackage, ensureInstalled } from '../../src/agents/cli/install.js';
import type { Agent } from '../../src/agents/types.js';
import type { Task } from '../../src/task/types.js';
import { shellJoin } from '../../src/util/shell.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { type Dialect, superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { expectHandFix, expectSkillWorkflow, loadSuperlint, runAgentTrial, superlintSkillMarker } from './harness.js';

const KEY = 'sk-ant-acp-test-0123456789';

/**
 * A real ACP agent from npm: Zed's Claude Code adapter, which drives Claude Code through the Claude Agent SDK.
 * Installed like an agent CLI (the cache is what the local sandbox shows read-only) and started by skill-eval's
 * bridge inside the trial's environment, against a scripted Anthropic server on 127.0.0.1.
 */
const CLAUDE_CODE_ACP: AgentPackage = {
  agent: 'claude-code-acp',
  npmPackage: '@zed-industries/claude-code-acp',
  version: '0.16.2',
  launch: [{ path: 'node_modules/@zed-industries/claude-code-acp/dist/index.js', node: true }],
};

/**
 * The bridge offers the terminal capability: the adapter's shell tool is then its own MCP tool (run through the
 * bridge's terminal/create), whose schema requires a timeout.
 */
const acpDialect: Dialect = {
  ...claudeDialect,
  shellTool: 'mcp__acp__Bash',
  shellArgs: (command) => ({ command, timeout: 60_000, description: 'Run a command' }),
};

function env(url: string): Record<string, string> {
  return {
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: url,
    // Claude Code refuses to skip permissions as root unless told it is sandboxed.
    IS_SANDBOX: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
}

describe('acp agent (the bridge driving @zed-industries/claude-code-acp against a scripted Anthropic server)', () => {
  let task: Task;
  let marker: string;
  let agent: Agent;
  let server: ModelServer | undefined;

  beforeAll(async () => {
    const installed = await ensureInstalled(CLAUDE_CODE_ACP);
    agent = createAcpAgent({ command: shellJoin(installed.argv) });
    await agent.install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('with the skill: the agent opens it, runs check → fix → verify through the bridge’s terminals, passes', async () => {
    server = await startAnthropicServer(superlintScript(acpDialect, { skillMarker: marker }), acpDialect);
    const run = await runAgentTrial({ agent, task, arm: 'with-skills', env: env(server.url) });
    expectSkillWorkflow(run, server);
    expect(run.log.find((e) => e.type === 'tool_call' && e.tool === 'Skill')).toMatchObject({
      input: { skill: 'superlint' },
    });
    // Every permission the agent asked for was approved, and recorded.
    const notes = run.log.flatMap((e) => (e.type === 'note' ? [e.text] : []));
    expect(notes.some((n) => /^acp: permission auto-approved \(allow_always\)/.test(n))).toBe(true);
    expect(notes).toContain('acp: prompt ended: end_turn');
    // The adapter reports no token counts over ACP: none are recorded (and no model-call count is made up).
    expect(run.result.usage).toBeUndefined();
    expect(run.result.agent_result?.model_calls).toBeUndefined();
    expect(server.requests.find((r) => r.main)?.headers['x-api-key']).toBe(KEY);
    expect(JSON.stringify(run.log)).not.toContain(KEY);
  });

  it('without the skill: fixes by hand (the refused command’s exit code recorded), fails the verifier', async () => {
    server = await startAnthropicServer(superlintScript(acpDialect, { skillMarker: marker }), acpDialect);
    const run = await runAgentTrial({ agent, task, arm: 'no-skills', env: env(server.url) });
    expectHandFix(run);
  });

  it('the agent timeout cancels the session and stops the agent', async () => {
    // A model endpoint that accepts the request and never answers: the agent waits until it is stopped.
    const hanging: Server = createServer(() => undefined);
    await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done));
    try {
      const { port } = hanging.address() as AddressInfo;
      const started = Date.now();
      const run = await runAgentTrial({
        agent,
        task,
        arm: 'no-skills',
        env: env(`http://127.0.0.1:${port}`),
        agentTimeoutSec: 8,
      });
      expect(run.result.status).toBe('agent_timeout');
      expect(Date.now() - started).toBeLessThan(40_000);
      const notes = run.log.flatMap((e) => (e.type === 'note' ? [e.text] : []));
      expect(notes).toContain('acp: stopped: session/cancel sent');
    } finally {
      hanging.closeAllConnections();
      await new Promise((done) => hanging.close(done));
    }
  });

  it('the bridge is installed next to the pinned SDK, keyed by its own content', () => {
    expect(ACP_BRIDGE_PACKAGE.npmPackage).toBe('@agentclientprotocol/sdk');
    expect(ACP_BRIDGE_PACKAGE.revision).toMatch(/^[0-9a-f]{12}$/);
  });
});
