import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oracleAgent } from '../../src/agents/oracle.js';
import type { Agent, Arm } from '../../src/agents/types.js';
import { createLocalProvider } from '../../src/environments/local.js';
import type { Workspace } from '../../src/environments/types.js';
import { AgentError, InfraError } from '../../src/errors.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';
import { loadFixtureTask, tempDir } from '../helpers/trials.js';

interface Faults {
  task?: string;
  arm?: Arm;
  agent?: Agent;
  prepare?: () => Promise<never>;
  /** Replaces some of the workspace's methods. */
  workspace?: (workspace: Workspace) => Partial<Workspace>;
}

const broken = (message: string, options?: { retryable?: boolean; cause?: unknown }) => async (): Promise<never> => {
  throw new InfraError(message, options);
};

/** A trial of a fixture task on the local provider, with faults injected where asked. */
async function trialWith(faults: Faults) {
  const base = createLocalProvider({ killGraceMs: 500 });
  const provider: typeof base = {
    ...base,
    createWorkspace: async (prepared, context) => {
      const workspace = await base.createWorkspace(prepared, context);
      const parts: Partial<Workspace> = faults.workspace?.(workspace) ?? {};
      return new Proxy(workspace, { get: (target, key) => (parts as never)[key] ?? Reflect.get(target, key, target) });
    },
  };
  const task = await loadFixtureTask(faults.task ?? 'reward-json');
  const trialDir = join(await tempDir('infra'), 'trial');
  const result = await runTrial(
    { jobId: 'job', task, agent: faults.agent ?? oracleAgent, arm: faults.arm ?? 'with-skills', trialIndex: 1 },
    {
      provider,
      prepare: faults.prepare ?? (() => base.prepare(task, { jobId: 'job', forceBuild: false, log: () => undefined })),
      trialDir,
      env: {},
      redactor: new Redactor([]),
    },
  );
  expect(existsSync(join(trialDir, 'result.json'))).toBe(true);
  return result;
}

describe('a trial stopped by an infrastructure error', () => {
  it('records environment_setup when the environment cannot be prepared, retryable as the error says', async () => {
    const result = await trialWith({ prepare: broken('no image', { cause: new Error('daemon down') }) });
    expect(result.status).toBe('infra_error');
    expect(result.error).toEqual({
      kind: 'infra',
      phase: 'environment_setup',
      message: 'no image (daemon down)',
      retryable: true,
    });
    expect(result.timings.phases.cleanup_ms).toBeUndefined();
  });

  it('records skills when a skill upload fails, and still disposes the workspace', async () => {
    const result = await trialWith({
      task: 'visibility',
      workspace: () => ({ upload: broken('upload failed', { retryable: false }) }),
    });
    expect(result.error).toMatchObject({ kind: 'infra', phase: 'skills', retryable: false });
    expect(result.timings.phases.cleanup_ms).toBeTypeOf('number');
  });

  it('puts work between two phases (the oracle solution upload) down to the phase before it', async () => {
    const result = await trialWith({ arm: 'no-skills', workspace: () => ({ upload: broken('upload failed') }) });
    expect(result.error).toMatchObject({ kind: 'infra', phase: 'environment_setup', message: 'upload failed' });
  });

  it('records agent when the agent hits one, and does not verify', async () => {
    const result = await trialWith({ agent: { ...oracleAgent, run: broken('exec failed', { retryable: false }) } });
    expect(result.error).toMatchObject({ kind: 'infra', phase: 'agent', retryable: false });
    expect(result.verifier).toBeUndefined();
    expect(result.timings.phases.verifier_ms).toBeUndefined();
  });

  it('records verifier when verification fails, with no reward', async () => {
    const result = await trialWith({ workspace: () => ({ verify: broken('verify failed') }) });
    expect(result.error).toMatchObject({ kind: 'infra', phase: 'verifier', message: 'verify failed' });
    expect(result.reward).toBeUndefined();
    expect(result.verifier).toBeUndefined();
  });

  it("keeps the verifier's summary when reading the reward fails after it ran", async () => {
    const result = await trialWith({ task: 'plant-reward', workspace: () => ({ readFile: broken('read failed') }) });
    expect(result.error).toMatchObject({ kind: 'infra', phase: 'verifier', message: 'read failed' });
    expect(result.verifier?.timed_out).toBe(false);
  });
});

describe('a trial whose agent failed', () => {
  it('is an agent error, retryable when it failed before the first model call, and verified anyway', async () => {
    const early = new AgentError('bad flag', { beforeFirstModelCall: true });
    const result = await trialWith({ agent: { ...oracleAgent, run: () => Promise.reject(early) } });
    expect(result.status).toBe('agent_error');
    expect(result.error).toEqual({
      kind: 'agent',
      phase: 'agent',
      message: 'bad flag (before the first model call)',
      retryable: true,
    });
    expect(result.verifier?.exit_code).toBeTypeOf('number');
  });
});
