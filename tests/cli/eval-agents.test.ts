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
import { scanForSecrets } from '../helpers/secret-scan.js';
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
  trial_name: string;
  arm: string;
  status: string;
  reward?: number;
  usage?: { inputTokens: number; outputTokens: number; cachedInputTokens?: number };
  skills_activated?: string[];
  agent_result?: { commands: number; tool_calls: number };
}

/** The only job's directory under a results dir. */
async function onlyJob(resultsDir: string): Promise<string> {
  const jobsDir = join(resultsDir, 'jobs');
  const [job] = await readdir(jobsDir);
  return join(jobsDir, job!);
}

async function trialDirs(jobDir: string): Promise<string[]> {
  const entries = await readdir(jobDir, { withFileTypes: true });
  return entries.filter((d) => d.isDirectory() && d.name !== CLAIMS_DIR).map((d) => join(jobDir, d.name));
}

async function trialResults(resultsDir: string): Promise<TrialFile[]> {
  const dirs = await trialDirs(await onlyJob(resultsDir));
  return Promise.all(
    dirs.map(async (dir) => JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as TrialFile),
  );
}

/** Every trial's model calls, as model_calls.jsonl recorded them. */
async function recordedCalls(resultsDir: string): Promise<Array<{ replayed?: boolean }>> {
  const calls: Array<{ replayed?: boolean }> = [];
  for (const dir of await trialDirs(await onlyJob(resultsDir))) {
    const text = await readFile(join(dir, 'model_calls.jsonl'), 'utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') calls.push(JSON.parse(line));
  }
  return calls;
}

async function expectGain(
  agent: keyof typeof AGENTS,
  provider: 'local' | 'docker',
  extra: string[] = [],
): Promise<{ results: string; server: ModelServer; env: Record<string, string> }> {
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
  // Counted at the gateway: every request the server saw is a recorded call, and usage is what it sent.
  expect(await recordedCalls(results)).toHaveLength(server.requests.length);
  const sent = server.sentUsage();
  const sum = (pick: (t: TrialFile) => number | undefined) => trials.reduce((n, t) => n + (pick(t) ?? 0), 0);
  expect([sum((t) => t.usage?.inputTokens), sum((t) => t.usage?.outputTokens)]).toEqual([sent.input, sent.output]);
  // The key reached the server but no file of the run.
  for (const value of Object.values(env).filter((v) => v.includes('test-'))) {
    expect(await scanForSecrets(results, [value])).toEqual([]);
  }
  return { results, server, env };
}

/**
 * `eval --replay JOB` of a recorded job, without a key: every trial again, answered from its recording — the
 * same statuses and rewards, every call replayed, no request upstream.
 */
async function expectReplay(
  agent: keyof typeof AGENTS,
  recorded: { results: string; server: ModelServer; env: Record<string, string> },
): Promise<void> {
  const before = recorded.server.requests.length;
  const env = Object.fromEntries(Object.entries(recorded.env).filter(([name]) => !name.endsWith('_API_KEY')));
  const results = await tempDir(`eval-${agent}-replay`);
  const replay = await runCli(
    ['eval', '--replay', await onlyJob(recorded.results), '--max-retries=0', `--results-dir=${results}`],
    { env, timeoutMs: 400_000 },
  );
  expect(replay.exitCode, replay.stderr).toBe(0);
  expect(recorded.server.requests.length).toBe(before);
  const outcome = (trials: TrialFile[]) =>
    trials.map((t) => [t.trial_name, t.status, t.reward]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  expect(outcome(await trialResults(results))).toEqual(outcome(await trialResults(recorded.results)));
  const calls = await recordedCalls(results);
  expect(calls).toHaveLength(before);
  expect(calls.every((c) => c.replayed === true)).toBe(true);
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
      `${agent} in a container (CLI from its image layer), offline: with-skills passes, no-skills fails; --replay spends nothing`,
      async () => expectReplay(agent, await expectGain(agent, 'docker')),
      600_000,
    );
  }

  it('claude in a container (CLI baked into an image layer) shows the same gain; a second run builds nothing', async () => {
    await expectReplay('claude', await expectGain('claude', 'docker'));
    const { server, env } = await AGENTS.claude(await superlintSkillMarker());
    servers.push(server);
    const again = await runCli(
      [
        'eval',
        'superlint',
        '--agent=claude',
        '--provider=docker',
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
