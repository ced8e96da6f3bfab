import { describe, expect, it } from 'vitest';
import { InfraError } from '../../src/errors.js';
import type { AgentOutcome } from '../../src/trial/phases/agent.js';
import type { Verdict } from '../../src/trial/phases/verify.js';
import { infraError, type StatusInput, trialStatus } from '../../src/trial/status.js';

const finished: AgentOutcome = { result: { events: [] }, timedOut: false, failedBeforeModel: false };
const timedOut: AgentOutcome = { timedOut: true, failedBeforeModel: false };
const crashed: AgentOutcome = { timedOut: false, failure: 'exit 1', failedBeforeModel: false };
const rewarded = (reward: number): Verdict => ({ ok: true, reward, source: '/logs/verifier/reward.txt' });
const noReward: Verdict = { ok: false, message: 'wrote no reward (test.sh exit code 1)' };
const infra = infraError(new InfraError('engine gone'), 'agent');
const GATEWAY_USAGE = {
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  reasoningTokens: 0,
  costUsd: undefined,
  costIncomplete: false,
  retries: 0,
  failedCalls: 0,
  unavailableCalls: 0,
  modelsServed: [],
};

function status(input: Partial<StatusInput>) {
  return trialStatus({ agentTimeoutSec: 600, passThreshold: 1, ...input });
}

describe('trial status', () => {
  it('is infra_error whenever an infrastructure error ended the trial, whatever else happened', () => {
    expect(status({ infra, agent: timedOut, verdict: noReward })).toEqual({ status: 'infra_error', error: infra });
    expect(status({ infra })).toEqual({ status: 'infra_error', error: infra });
  });

  it('is verifier_error when the verifier gave no reward, also after an agent timeout or crash', () => {
    const expected = {
      status: 'verifier_error',
      error: { kind: 'verifier', phase: 'verifier', message: 'wrote no reward (test.sh exit code 1)' },
    };
    expect(status({ agent: finished, verdict: noReward })).toEqual(expected);
    expect(status({ agent: timedOut, verdict: noReward })).toEqual(expected);
    expect(status({ agent: crashed, verdict: noReward })).toEqual(expected);
  });

  it('is agent_timeout after a timeout, even with a passing reward, and says the limit', () => {
    expect(status({ agent: timedOut, verdict: rewarded(1), agentTimeoutSec: 30 })).toEqual({
      status: 'agent_timeout',
      error: {
        kind: 'agent_timeout',
        phase: 'agent',
        message: 'the agent did not finish within 30 s; verified anyway',
      },
    });
    expect(status({ agent: { ...crashed, timedOut: true }, verdict: rewarded(0) }).status).toBe('agent_timeout');
  });

  it('is agent_error when the agent failed, retryable only before its first model call', () => {
    expect(status({ agent: crashed, verdict: rewarded(1) })).toEqual({
      status: 'agent_error',
      error: { kind: 'agent', phase: 'agent', message: 'exit 1', retryable: false },
    });
    const early = { ...crashed, failure: 'bad flag (before the first model call)', failedBeforeModel: true };
    expect(status({ agent: early, verdict: rewarded(0) }).error).toEqual({
      kind: 'agent',
      phase: 'agent',
      message: 'bad flag (before the first model call)',
      retryable: true,
    });
  });

  it('is a retryable infra_error when the agent gave up and the model service answered none of its calls', () => {
    const usage = (calls: number, failedCalls: number, unavailableCalls: number) => ({
      model: { stop: undefined, usage: { ...GATEWAY_USAGE, calls, failedCalls, unavailableCalls } },
    });
    expect(status({ agent: crashed, verdict: rewarded(0), ...usage(3, 3, 3) }).error).toEqual({
      kind: 'infra',
      phase: 'agent',
      message: "model API: none of the agent's 3 model call(s) was answered (exit 1)",
      retryable: true,
    });
    // A 404 for a model id that does not exist is about the request: the agent's (or its configuration's) error.
    expect(status({ agent: crashed, verdict: rewarded(0), ...usage(3, 3, 0) }).status).toBe('agent_error');
    // One answered call: the agent worked with the model, then failed.
    expect(status({ agent: crashed, verdict: rewarded(0), ...usage(3, 2, 2) }).status).toBe('agent_error');
  });

  it('is passed at or above the threshold and failed below it, without an error', () => {
    expect(status({ agent: finished, verdict: rewarded(1) })).toEqual({ status: 'passed' });
    expect(status({ agent: finished, verdict: rewarded(0.99) })).toEqual({ status: 'failed' });
    expect(status({ agent: finished, verdict: rewarded(0.5), passThreshold: 0.5 })).toEqual({ status: 'passed' });
    expect(status({ agent: finished, verdict: rewarded(0.4), passThreshold: 0.5 })).toEqual({ status: 'failed' });
  });
});

describe('infrastructure errors', () => {
  it('keep the phase they happened in and the cause, and are retryable as the InfraError says', () => {
    expect(infraError(new InfraError('no container', { cause: new Error('port taken') }), 'environment_setup')).toEqual(
      {
        kind: 'infra',
        phase: 'environment_setup',
        message: 'no container (port taken)',
        retryable: true,
      },
    );
    expect(infraError(new InfraError('disk full', { retryable: false }), 'verifier').retryable).toBe(false);
  });

  it('are not retryable when they are our own bugs (anything but an InfraError)', () => {
    expect(infraError(new TypeError('x is undefined'), 'skills')).toEqual({
      kind: 'infra',
      phase: 'skills',
      message: 'x is undefined',
      retryable: false,
    });
    expect(infraError('thrown string', 'agent').message).toBe('thrown string');
  });
});
