import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { getAgent } from '../../src/agents/registry.js';
import type { Agent, Arm } from '../../src/agents/types.js';
import { createLocalProvider } from '../../src/environments/local.js';
import type { PreparedEnvironment } from '../../src/environments/types.js';
import type { TrialGatewaySettings } from '../../src/gateway/trial.js';
import type { TrialResult } from '../../src/results/schema.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';
import type { SessionEntry } from '../../src/util/session-log.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { FINAL_WITH_SKILL, GUESSED_FIX, HAND_FIX } from '../fixtures/model-servers/superlint-script.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';

/** Shared by the four harness tests: the real CLI, the real lifecycle, tasks/superlint_demo, a scripted model. */

export const SUPERLINT_TASK = join(REPO_ROOT, 'tasks/superlint_demo');

export async function loadSuperlint(): Promise<Task> {
  return loadTaskOrThrow(SUPERLINT_TASK);
}

/** Part of the superlint skill's description: present in a request only when the CLI listed the skill. */
export async function superlintSkillMarker(): Promise<string> {
  const text = await readFile(join(SUPERLINT_TASK, 'skills/superlint/SKILL.md'), 'utf8');
  const frontmatter = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? '';
  const description = String((parseYaml(frontmatter) as { description?: unknown }).description ?? '');
  expect(description.length).toBeGreaterThan(40);
  return description.slice(0, 60);
}

export type LoggedEntry = SessionEntry & { at: string };

export async function readSessionLog(trialDir: string): Promise<LoggedEntry[]> {
  const text = await readFile(join(trialDir, 'session.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LoggedEntry);
}

export function agentCommands(
  entries: LoggedEntry[],
): Array<{ command: string; exitCode?: number | undefined; stdout?: string | undefined }> {
  return entries.flatMap((e) =>
    e.type === 'command' && e.source === 'agent'
      ? [{ command: e.command, exitCode: e.exitCode, stdout: e.stdout }]
      : [],
  );
}

export async function runAgentTrial(options: {
  /** A CLI agent by name, or an agent object (a configured one: acp, command). */
  agent: 'claude' | 'codex' | 'gemini' | 'opencode' | Agent;
  task: Task;
  arm: Arm;
  env: Record<string, string>;
  agentTimeoutSec?: number;
  model?: string;
  /**
   * The trial's model gateway: off by default here, so these tests see what the CLI itself does and reports;
   * tests/gateway/trial-agents.test.ts runs the same CLIs through it.
   */
  gateway?: TrialGatewaySettings | false;
}): Promise<{ result: TrialResult; trialDir: string; log: LoggedEntry[] }> {
  const provider = createLocalProvider({ killGraceMs: 500 });
  const agent = typeof options.agent === 'string' ? getAgent(options.agent) : options.agent;
  const trialDir = join(await tempDir('agents'), `${agent.name}-${options.arm}`);
  let prepared: Promise<PreparedEnvironment> | undefined;
  const result = await runTrial(
    {
      jobId: 'agent-test',
      task: options.task,
      agent,
      model: options.model,
      arm: options.arm,
      trialIndex: 1,
    },
    {
      provider,
      prepare: () =>
        (prepared ??= provider.prepare(options.task, { jobId: 'agent-test', forceBuild: false, log: () => undefined })),
      trialDir,
      env: options.env,
      redactor: new Redactor(
        Object.entries(options.env)
          .filter(([name]) => name.endsWith('_API_KEY'))
          .map(([, value]) => value),
      ),
      agentTimeoutSec: options.agentTimeoutSec,
      gateway: options.gateway ?? false,
    },
  );
  return { result, trialDir, log: await readSessionLog(trialDir) };
}

/** The checks every harness must pass in the with-skills arm: the skill was used, the workflow ran, the verifier passed. */
export function expectSkillWorkflow(run: { result: TrialResult; log: LoggedEntry[] }, server: ModelServer): void {
  const { result, log } = run;
  expect(result.error, JSON.stringify(result.error)).toBeUndefined();
  expect(result.status).toBe('passed');
  expect(result.reward).toBe(1);
  expect(result.skills_activated).toEqual(['superlint']);
  const commands = agentCommands(log).map((c) => c.command);
  for (const step of ['superlint check', 'superlint fix', 'superlint verify'])
    expect(
      commands.some((c) => c.includes(step)),
      `${step} in ${JSON.stringify(commands)}`,
    ).toBe(true);
  const verify = agentCommands(log).find((c) => c.command.includes('superlint verify'));
  expect(verify?.exitCode).toBe(0);
  expect(verify?.stdout ?? '').toMatch(/passed/);
  expect(result.agent_result?.final_message).toBe(FINAL_WITH_SKILL);
  expect(server.requests.some((r) => r.main)).toBe(true);
}

/** The no-skills arm: the guessed `superlint fix` was refused (its exit code recorded), the hand fix ran, nothing was activated, the verifier failed. */
export function expectHandFix(run: { result: TrialResult; log: LoggedEntry[] }): void {
  const { result, log } = run;
  expect(result.error, JSON.stringify(result.error)).toBeUndefined();
  expect(result.status).toBe('failed');
  expect(result.reward).toBe(0);
  expect(result.skills_activated).toEqual([]);
  const commands = agentCommands(log);
  const guessed = commands.find((c) => c.command === GUESSED_FIX);
  expect(guessed?.exitCode, JSON.stringify(guessed)).toBe(3);
  expect(guessed?.stdout ?? '').toMatch(/fix needs a check first/);
  expect(commands.map((c) => c.command)).toContain(HAND_FIX);
  expect(commands.find((c) => c.command === HAND_FIX)?.exitCode).toBe(0);
  expect(commands.some((c) => c.command.includes('superlint check'))).toBe(false);
}
