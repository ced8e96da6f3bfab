import { errorMessage, InfraError } from '../errors.js';
import type { TrialGatewayOutcome } from '../gateway/trial.js';
import type { TrialStatus } from '../results/schema.js';
import type { TrialPhase } from './phase-clock.js';
import type { AgentOutcome } from './phases/agent.js';
import type { Verdict } from './phases/verify.js';
import type { TrialError } from './types.js';

/** What the phases returned, as far as the trial got, plus the rules that judge it. */
export interface StatusInput {
  /** The infrastructure error that ended the trial early. */
  infra?: TrialError | undefined;
  agent?: AgentOutcome | undefined;
  verdict?: Verdict | undefined;
  /** What the trial's model gateway said: why it stopped the agent, if it did. */
  model?: (Pick<TrialGatewayOutcome, 'stop'> & Partial<Pick<TrialGatewayOutcome, 'usage'>>) | undefined;
  agentTimeoutSec: number;
  /** Reward at or above which a trial counts as passed. */
  passThreshold: number;
}

export interface TrialVerdict {
  status: TrialStatus;
  error?: TrialError | undefined;
}

/**
 * The trial's status, first match wins: an infrastructure error (the model API down after the gateway's retries
 * is one, retryable), then a verifier error (no reward), then the gateway's stop (budget, replay miss), then an agent
 * timeout, then an agent failure (all verified anyway), then passed or failed by the reward.
 */
export function trialStatus(input: StatusInput): TrialVerdict {
  const { infra, agent, verdict } = input;
  const stop = input.model?.stop;
  if (infra) return { status: 'infra_error', error: infra };
  if (stop?.kind === 'upstream_failed')
    return {
      status: 'infra_error',
      error: { kind: 'infra', phase: 'agent', message: `model API: ${stop.message}`, retryable: true },
    };
  if (verdict && !verdict.ok)
    return { status: 'verifier_error', error: { kind: 'verifier', phase: 'verifier', message: verdict.message } };
  if (stop)
    return {
      status: stop.kind,
      error: { kind: stop.kind, phase: 'agent', message: `${stop.message}; the agent was stopped, verified anyway` },
    };
  if (agent?.timedOut) {
    const message = `the agent did not finish within ${input.agentTimeoutSec} s; verified anyway`;
    return { status: 'agent_timeout', error: { kind: 'agent_timeout', phase: 'agent', message } };
  }
  if (agent?.failure !== undefined && neverAnswered(input.model)) {
    // The CLI gave up on errors the gateway passed on before it had halted (a call it hung up on mid-retry): no
    // call ever reached the model, so this says nothing about the agent.
    const calls = input.model?.usage?.calls ?? 0;
    const message = `model API: none of the agent's ${calls} model call(s) was answered (${agent.failure})`;
    return { status: 'infra_error', error: { kind: 'infra', phase: 'agent', message, retryable: true } };
  }
  if (agent?.failure !== undefined) {
    const error: TrialError = {
      kind: 'agent',
      phase: 'agent',
      message: agent.failure,
      retryable: agent.failedBeforeModel,
    };
    return { status: 'agent_error', error };
  }
  const reward = verdict?.ok ? verdict.reward : undefined;
  return { status: (reward ?? 0) >= input.passThreshold ? 'passed' : 'failed' };
}

/** An infrastructure error as the result records it, in the phase the clock was in when it was thrown. */
export function infraError(caught: unknown, phase: TrialPhase): TrialError {
  const cause = caught instanceof Error && caught.cause ? ` (${errorMessage(caught.cause)})` : '';
  return {
    kind: 'infra',
    phase,
    message: errorMessage(caught) + cause,
    // Our own bugs are not worth retrying; engine and file-system failures are, unless they say otherwise.
    retryable: caught instanceof InfraError ? caught.retryable : false,
  };
}

/**
 * Through a gateway that saw calls, the model service answered none of them (429/5xx after retries, unreachable):
 * an agent that gave up then says nothing about itself. A 4xx about the request (a model id that does not exist, a
 * malformed body) is not this: it is the agent's or its configuration's.
 */
function neverAnswered(model: StatusInput['model']): boolean {
  const usage = model?.usage;
  return usage !== undefined && usage.calls > 0 && usage.unavailableCalls === usage.calls;
}
