import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getAgent } from '../../src/agents/registry.js';
import { CLAIMS_DIR } from '../../src/jobs/claims.js';
import { superlintSkillMarker } from '../agents/harness.js';
import { engineGate } from '../environments/docker-engine.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import { geminiDialect, startGeminiServer } from '../fixtures/model-servers/gemini.js';
import { opencodeDialect, startChatServer } from '../fixtures/model-servers/openai-chat.js';
import { codexDialect, startResponsesServer } from '../fixtures/model-servers/openai-responses.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

/** What a user does: point the agent at an endpoint through the environment, then run `eval --compare`. */
const AGENTS = {
  claude: async (marker: string) => {
    const server = await startAnthropicServer(superlintScript(claudeDialect, { skillMarker: marker }));
    return { server, env: { ANTHROPIC_API_KEY: 'sk-ant-cli-test-0123456789', ANTHROPIC_BASE_URL: server.url } };
  },
  codex: async (marker: string) => {
    const server = await startResponsesServer(superlintScript(codexDialect, { skillMarker: marker }));
    return { server, env: { OPENAI_API_KEY: 'sk-cli-test-codex-0123456789', OPENAI_BASE_URL: `${server.url}/v1` } };
  },
  gemini: async (marker: string) => {
    const server = await startGeminiServer(superlintScript(geminiDialect, { skillMarker: marker }));
    return { server, env: { GEMINI_API_KEY: 'gemini-cli-test-0123456789', GOOGLE_GEMINI_BASE_URL: server.url } };
  },
  opencode: async (marker: string) => {
    const server = await startChatServer(superlintScript(opencodeDialect, { skillMarker: marker }));
    return { server, env: { OPENAI_API_KEY: 'sk-cli-test-opencode-0123456789', OPENAI_BASE_URL: `${server.url}/v1` } };
  },
} as const;

interface TrialFile {
  arm: string;
  status: string;
  usage?: { inputTokens: number; outputTokens: number };
  skills_activated?: string[];
  agent_result?: { commands: number; tool_calls: number };
}

async function trialResults(resultsDir: string): Promise<TrialFile[]> {
  const jobsDir = join(resultsDir, 'jobs');
  const [job] = await readdir(jobsDir);
  const dirs = (await readdir(join(jobsDir, job!), { withFileTypes: true })).filter(
    (d) => d.isDirectory() && d.name !== CLAIMS_DIR,
  );
  return Promise.all(
    dirs.map(async (d) => JSON.parse(await readFile(join(jobsDir, job!, d.name, 'result.json'), 'utf8')) as TrialFile),
  );
}

async function expectGain(
  agent: keyof typeof AGENTS,
  provider: 'local' | 'docker',
  extra: string[] = [],
): Promise<void> {
  const { server, env } = await AGENTS[agent](await superlintSkillMarker());
  servers.push(server);
  const results = await tempDir(`eval-${agent}-${provider}`);
  const run = await runCli(
    [
      'eval',
      'superlint',
      `--agent=${agent}`,
      `--provider=${provider}`,
      '--compare',
      '--trials=1',
      '--max-retries=0',
      `--results-dir=${results}`,
      ...extra,
    ],
    {
      env,
      timeoutMs: 400_000,
    },
  );
  expect(run.exitCode, run.stderr).toBe(0);
  // The agent's default model is pinned and named with it.
  const model = getAgent(agent).defaultModel!;
  expect(run.stdout).toMatch(
    new RegExp(`superlint_demo \\| ${agent} \\(${model}\\)\\s+\\| with-skills \\| 1\\s+\\| 1/1`),
  );
  expect(run.stdout).toMatch(
    new RegExp(`superlint_demo \\| ${agent} \\(${model}\\)\\s+\\| no-skills\\s+\\| 1\\s+\\| 0/1`),
  );
  // With both arms, eval answers the question itself: Δ, normalized gain and a verdict.
  expect(run.stdout).toMatch(
    /superlint_demo │ 0\.0% \[0–79\.3\] \(n=1\)\s+│ 100\.0% \[20\.7–100\] \(n=1\)\s+│ \+100\.0 pp │\s+1\.00 │ inconclusive/,
  );
  const trials = await trialResults(results);
  const withSkills = trials.find((t) => t.arm === 'with-skills')!;
  const without = trials.find((t) => t.arm === 'no-skills')!;
  expect(withSkills.skills_activated).toEqual(['superlint']);
  expect(without.skills_activated ?? []).toEqual([]);
  for (const trial of trials) {
    expect(trial.usage?.inputTokens).toBeGreaterThan(0);
    expect(trial.usage?.outputTokens).toBeGreaterThan(0);
    expect((trial.agent_result?.commands ?? 0) + (trial.agent_result?.tool_calls ?? 0)).toBeGreaterThan(0);
  }
  // The key reached the agent but no file of the run.
  for (const value of Object.values(env).filter((v) => v.includes('test-'))) {
    expect(JSON.stringify(trials)).not.toContain(value);
  }
}

const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('eval with real agent CLIs against scripted model servers (local provider)', () => {
  for (const agent of Object.keys(AGENTS) as Array<keyof typeof AGENTS>) {
    it(
      `${agent}: the skill makes the difference (with-skills passes, no-skills fails)`,
      () => expectGain(agent, 'local'),
      420_000,
    );
  }
});

const docker = await engineGate('eval with agent CLIs on the Docker provider');
describe.runIf(docker)('eval with real agent CLIs on the Docker provider', () => {
  for (const agent of ['codex', 'gemini', 'opencode'] as const) {
    it(
      `${agent} in a container (CLI from its image layer): with-skills passes, no-skills fails`,
      () => expectGain(agent, 'docker', ['--network=host']),
      600_000,
    );
  }

  it('claude in a container (CLI baked into an image layer) shows the same gain; a second run builds nothing', async () => {
    await expectGain('claude', 'docker', ['--network=host']);
    const { server, env } = await AGENTS.claude(await superlintSkillMarker());
    servers.push(server);
    const again = await runCli(
      [
        'eval',
        'superlint',
        '--agent=claude',
        '--provider=docker',
        '--network=host',
        '--no-skills',
        '--trials=1',
        `--results-dir=${await tempDir('eval-claude-docker-2')}`,
      ],
      { env, timeoutMs: 400_000 },
    );
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/up to date \(no build\)/);
    expect(again.stderr).not.toMatch(/Step \d|building/i);
  }, 900_000);
});
