import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCommandAgent } from '../../src/agents/command.js';
import type { Agent } from '../../src/agents/types.js';
import { createDockerProvider } from '../../src/environments/docker.js';
import { createLocalProvider } from '../../src/environments/local.js';
import type { EnvironmentProvider, PreparedEnvironment } from '../../src/environments/types.js';
import type { TrialResult } from '../../src/results/schema.js';
import type { Task } from '../../src/task/types.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';
import { engineGate } from '../environments/docker-engine.js';
import { tempDir } from '../helpers/trials.js';
import { agentCommands, type LoggedEntry, loadSuperlint, readSessionLog } from './harness.js';

const runDocker = await engineGate('the command agent in Docker');

/**
 * A bring-your-own agent as users write one: a shell script, given whole as the command line (it runs in the
 * environment, where a file on the host may not be). It checks what the agent contract promises — the instruction
 * on stdin and in $SKILL_EVAL_INSTRUCTION_FILE, the workdir as cwd, the forwarded variables — and then does the
 * task's workflow. Any broken promise exits non-zero, which fails the test through the trial's status.
 */
const SOLVER = `set -euo pipefail
instruction="$(cat)"
[ -n "$instruction" ] || { echo "no instruction on stdin" >&2; exit 11; }
[ "$instruction" = "$(cat "$SKILL_EVAL_INSTRUCTION_FILE")" ] || { echo "stdin and the instruction file differ" >&2; exit 12; }
[ "$PWD" = "$SKILL_EVAL_WORKDIR" ] || { echo "cwd is $PWD, not the workdir $SKILL_EVAL_WORKDIR" >&2; exit 13; }
[ "$MY_SETTING" = "on" ] || { echo "the forwarded variable is missing" >&2; exit 14; }
echo "solver: read $(wc -c < "$SKILL_EVAL_INSTRUCTION_FILE") bytes of instruction"
echo "solver: a note on stderr" >&2
superlint check
superlint fix
superlint verify`;

async function commandTrial(
  provider: EnvironmentProvider,
  task: Task,
  agent: Agent,
  agentTimeoutSec?: number,
): Promise<{ result: TrialResult; trialDir: string; log: LoggedEntry[] }> {
  const trialDir = join(await tempDir('command-agent'), `${provider.name}-trial`);
  let prepared: Promise<PreparedEnvironment> | undefined;
  const result = await runTrial(
    { jobId: 'command-agent-test', task, agent, arm: 'with-skills', trialIndex: 1 },
    {
      provider,
      prepare: () =>
        (prepared ??= provider.prepare(task, { jobId: 'command-agent-test', forceBuild: false, log: () => undefined })),
      trialDir,
      env: { MY_SETTING: 'on' },
      redactor: new Redactor([]),
      agentTimeoutSec,
    },
  );
  return { result, trialDir, log: await readSessionLog(trialDir) };
}

function expectSolved(run: { result: TrialResult; trialDir: string; log: LoggedEntry[] }, command: string): void {
  expect(run.result.error, JSON.stringify(run.result.error)).toBeUndefined();
  expect(run.result.status).toBe('passed');
  expect(run.result.reward).toBe(1);
  const commands = agentCommands(run.log);
  expect(commands).toHaveLength(1);
  expect(commands[0]).toMatchObject({ command, exitCode: 0 });
  expect(commands[0]?.stdout).toMatch(/solver: read \d+ bytes of instruction/);
  const logged = run.log.find((e) => e.type === 'command' && e.source === 'agent') as { stderr?: string } | undefined;
  expect(logged?.stderr).toMatch(/solver: a note on stderr/);
  // No model usage is known for a command: none is recorded.
  expect(run.result.usage).toBeUndefined();
}

describe('command agent (a shell script as the agent)', () => {
  let task: Task;

  beforeAll(async () => {
    task = await loadSuperlint();
  });

  it('local provider: the script gets the instruction on stdin and in a file, runs in the workdir, solves the task', async () => {
    const run = await commandTrial(
      createLocalProvider({ killGraceMs: 500 }),
      task,
      createCommandAgent({ command: SOLVER }),
    );
    expectSolved(run, SOLVER);
    // The instruction file and the raw output are collected with the trial.
    const files = await Promise.all(
      ['instruction.md', 'command.stdout.txt', 'command.stderr.txt'].map((name) =>
        readFile(join(run.trialDir, 'agent', name), 'utf8'),
      ),
    );
    expect(files[0]).toContain('superlint');
    expect(files[1]).toMatch(/solver: read/);
    expect(files[2]).toMatch(/a note on stderr/);
  });

  it('a non-zero exit is the agent’s error, with its stderr; the verifier still runs', async () => {
    const run = await commandTrial(
      createLocalProvider({ killGraceMs: 500 }),
      task,
      createCommandAgent({ command: 'echo "giving up" >&2; exit 7' }),
    );
    expect(run.result.status).toBe('agent_error');
    expect(run.result.error?.message).toMatch(/the command agent exited with 7/);
    expect(run.result.error?.message).toMatch(/giving up/);
    expect(run.result.reward).toBe(0);
  });

  it('the agent timeout stops it', async () => {
    const started = Date.now();
    const run = await commandTrial(
      createLocalProvider({ killGraceMs: 500 }),
      task,
      createCommandAgent({ command: 'echo started; sleep 60' }),
      2,
    );
    expect(run.result.status).toBe('agent_timeout');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(agentCommands(run.log)[0]?.stdout).toMatch(/started/);
  });

  it.runIf(runDocker)('Docker provider: the same script solves the task inside the container', async () => {
    const run = await commandTrial(
      createDockerProvider({ killGraceMs: 500 }),
      task,
      createCommandAgent({ command: SOLVER }),
    );
    expectSolved(run, SOLVER);
    expect(existsSync(join(run.trialDir, 'agent', 'instruction.md'))).toBe(true);
  });
});
