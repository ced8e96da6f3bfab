import { cp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAcpAgent } from '../../../src/agents/acp/agent.js';
import { ACP_BRIDGE_PACKAGE } from '../../../src/agents/acp/package.js';
import { agentImageLayer } from '../../../src/agents/cli/image-layer.js';
import { type AgentPackage, ensureInstalled } from '../../../src/agents/cli/install.js';
import { imageLauncher } from '../../../src/agents/cli/run.js';
import type { Agent } from '../../../src/agents/types.js';
import { createDockerProvider } from '../../../src/environments/docker.js';
import type { PreparedEnvironment } from '../../../src/environments/types.js';
import { loadTaskOrThrow } from '../../../src/task/load.js';
import type { Task } from '../../../src/task/types.js';
import { runTrial } from '../../../src/trial/run-trial.js';
import { Redactor } from '../../../src/util/secrets.js';
import { shellJoin } from '../../../src/util/shell.js';
import { engineGate } from '../../environments/docker-engine.js';
import { claudeDialect, startAnthropicServer } from '../../fixtures/model-servers/anthropic.js';
import type { ModelServer } from '../../fixtures/model-servers/server.js';
import { type Dialect, superlintScript } from '../../fixtures/model-servers/superlint-script.js';
import { modelCalls, seeingAgent } from '../../gateway/trial-helpers.js';
import { scanForSecrets } from '../../helpers/secret-scan.js';
import { tempDir } from '../../helpers/trials.js';
import {
  expectHandFix,
  expectSkillWorkflow,
  loadSuperlint,
  readSessionLog,
  runAgentTrial,
  SUPERLINT_TASK,
  superlintSkillMarker,
} from '../harness.js';

const runDocker = await engineGate('the ACP agent in Docker');

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

  it('through the model gateway: every call counted and recorded at the gateway, the key only upstream', async () => {
    server = await startAnthropicServer(superlintScript(acpDialect, { skillMarker: marker }), acpDialect);
    const seenDir = join(await tempDir('acp-gateway-seen'), 'seen');
    const run = await runAgentTrial({
      agent: seeingAgent(agent, seenDir),
      task,
      arm: 'with-skills',
      env: env(server.url),
      gateway: {},
    });
    expectSkillWorkflow(run, server);
    // The adapter reports no usage over ACP; the gateway counts what the server sent.
    const sent = server.sentUsage();
    expect(run.result.usage).toMatchObject({
      source: 'gateway',
      inputTokens: sent.input,
      outputTokens: sent.output,
      calls: server.requests.length,
    });
    expect(await modelCalls(run.trialDir)).toHaveLength(server.requests.length);
    expect(server.requests.find((r) => r.main)?.headers['x-api-key']).toBe(KEY);
    expect(await readFile(join(seenDir, 'env.txt'), 'utf8')).toMatch(/sk-skill-eval-/);
    expect(await scanForSecrets(seenDir, [KEY])).toEqual([]);
    expect(await scanForSecrets(run.trialDir, [KEY])).toEqual([]);
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

  it.runIf(runDocker)(
    'Docker provider: bridge and agent baked into the image by their layers, the agent solves the task in the container',
    async () => {
      // The scripted server listens on the host's 127.0.0.1: the task copy uses the host network.
      const dir = join(await tempDir('acp-docker'), 'superlint_demo');
      await cp(SUPERLINT_TASK, dir, { recursive: true });
      const toml = await readFile(join(dir, 'task.toml'), 'utf8');
      await writeFile(
        join(dir, 'task.toml'),
        toml.replace('allow_internet = false', 'allow_internet = true\nnetwork_mode = "host"'),
      );
      const dockerTask = await loadTaskOrThrow(dir);
      // In the image, the agent is its launcher there, not the host's cache.
      const inImage = createAcpAgent({ command: imageLauncher(CLAUDE_CODE_ACP) });
      const layers = [
        await inImage.imageLayer!({ log: () => undefined }),
        await agentImageLayer(CLAUDE_CODE_ACP, { log: () => undefined }),
      ];
      server = await startAnthropicServer(superlintScript(acpDialect, { skillMarker: marker }), acpDialect);
      const provider = createDockerProvider({ killGraceMs: 500 });
      let prepared: Promise<PreparedEnvironment> | undefined;
      const trialDir = join(await tempDir('acp-docker-trial'), 'acp');
      const result = await runTrial(
        { jobId: 'acp-docker-test', task: dockerTask, agent: inImage, arm: 'with-skills', trialIndex: 1 },
        {
          provider,
          prepare: () =>
            (prepared ??= provider.prepare(dockerTask, {
              jobId: 'acp-docker-test',
              forceBuild: false,
              log: () => undefined,
              layers,
            })),
          trialDir,
          env: env(server.url),
          redactor: new Redactor([KEY]),
        },
      );
      expectSkillWorkflow({ result, log: await readSessionLog(trialDir) }, server);
      expect(result.provider).toBe('docker');
    },
    600_000,
  );
});
