import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeAgent } from '../../src/agents/claude.js';
import { codexAgent } from '../../src/agents/codex.js';
import { geminiAgent } from '../../src/agents/gemini.js';
import { opencodeAgent } from '../../src/agents/opencode.js';
import type { Agent } from '../../src/agents/types.js';
import { createDockerProvider } from '../../src/environments/docker.js';
import type { ImageLayer, PreparedEnvironment } from '../../src/environments/types.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';
import { engineGate } from '../environments/docker-engine.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { geminiDialect, startGeminiServer } from '../fixtures/model-servers/gemini.js';
import { opencodeDialect, startChatServer } from '../fixtures/model-servers/openai-chat.js';
import { codexDialect, startResponsesServer } from '../fixtures/model-servers/openai-responses.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { tempDir } from '../helpers/trials.js';
import { expectSkillWorkflow, readSessionLog, SUPERLINT_TASK, superlintSkillMarker } from './harness.js';

const runDocker = await engineGate('agent CLIs in Docker');

/**
 * The CLIs baked into task images by their layers, run by the Docker provider. The task copy may use the host
 * network: the scripted model server listens on the host's 127.0.0.1 (superlint_demo itself is offline).
 */
describe.runIf(runDocker)('agent CLIs in Docker (image layers)', () => {
  let task: Task;
  let marker: string;
  const servers: ModelServer[] = [];

  beforeAll(async () => {
    const dir = join(await tempDir('docker-agents'), 'superlint_demo');
    await cp(SUPERLINT_TASK, dir, { recursive: true });
    const toml = await readFile(join(dir, 'task.toml'), 'utf8');
    await writeFile(
      join(dir, 'task.toml'),
      toml.replace('allow_internet = false', 'allow_internet = true\nnetwork_mode = "host"'),
    );
    task = await loadTaskOrThrow(dir);
    marker = await superlintSkillMarker();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  async function dockerTrial(agent: Agent, env: Record<string, string>) {
    const provider = createDockerProvider({ killGraceMs: 500 });
    const layers: ImageLayer[] = [await agent.imageLayer!({ log: () => undefined })];
    expect(layers[0]!.dockerfileLines.join('\n')).toMatch(new RegExp(`COPY --from=skill-eval/agent-${agent.name}:`));
    let prepared: Promise<PreparedEnvironment> | undefined;
    const trialDir = join(await tempDir('docker-agent-trial'), agent.name);
    const result = await runTrial(
      { jobId: 'docker-agent-test', task, agent, arm: 'with-skills', trialIndex: 1 },
      {
        provider,
        prepare: () =>
          (prepared ??= provider.prepare(task, {
            jobId: 'docker-agent-test',
            forceBuild: false,
            log: () => undefined,
            layers,
          })),
        trialDir,
        env,
        redactor: new Redactor(Object.values(env)),
        // The CLIs' own path to their endpoint (the host network); tests/gateway/trial-docker.test.ts: the gateway's.
        gateway: false,
      },
    );
    return { result, trialDir, log: await readSessionLog(trialDir) };
  }

  it('claude: the CLI from its layer solves the task with the skill', async () => {
    const server = await startAnthropicServer(superlintScript(claudeDialect, { skillMarker: marker }));
    servers.push(server);
    const run = await dockerTrial(claudeAgent, {
      ANTHROPIC_API_KEY: 'sk-ant-docker-test',
      ANTHROPIC_BASE_URL: server.url,
    });
    expectSkillWorkflow(run, server);
    expect(run.result.provider).toBe('docker');
  }, 600_000);

  it('codex: the CLI from its layer solves the task with the skill', async () => {
    const server = await startResponsesServer(superlintScript(codexDialect, { skillMarker: marker }));
    servers.push(server);
    const run = await dockerTrial(codexAgent, {
      OPENAI_API_KEY: 'sk-openai-docker-test',
      OPENAI_BASE_URL: `${server.url}/v1`,
    });
    expectSkillWorkflow(run, server);
  }, 600_000);

  it('gemini: the CLI (with the Node it brings) from its layer solves the task with the skill', async () => {
    const server = await startGeminiServer(superlintScript(geminiDialect, { skillMarker: marker }));
    servers.push(server);
    const run = await dockerTrial(geminiAgent, {
      GEMINI_API_KEY: 'gemini-docker-test',
      GOOGLE_GEMINI_BASE_URL: server.url,
    });
    expectSkillWorkflow(run, server);
  }, 600_000);

  it('opencode: the CLI (with its ripgrep) from its layer solves the task with the skill', async () => {
    const server = await startChatServer(superlintScript(opencodeDialect, { skillMarker: marker }));
    servers.push(server);
    const run = await dockerTrial(opencodeAgent, {
      OPENAI_API_KEY: 'sk-openai-docker-test',
      OPENAI_BASE_URL: `${server.url}/v1`,
    });
    expectSkillWorkflow(run, server);
    expect(run.log.find((e) => e.type === 'tool_call' && e.tool === 'skill')).toMatchObject({ isError: false });
  }, 600_000);
});
