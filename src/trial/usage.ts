import type { Usage } from '../agents/types.js';
import { PRICES_AS_OF } from '../gateway/prices.js';
import type { TrialGatewayOutcome } from '../gateway/trial.js';
import type { TrialResult } from '../results/schema.js';

/**
 * result.json's usage: the gateway's count when the trial had one (the provider's own numbers, summed over the
 * calls it forwarded; cost from the dated price table), with what the CLI reported kept beside it and any
 * disagreement said in `mismatch`; else the CLI's own, as before the gateway.
 */
export function trialUsage(
  model: TrialGatewayOutcome | undefined,
  reported: Usage | undefined,
): TrialResult['usage'] | undefined {
  if (!model) return reported && { ...reported, source: 'agent' };
  const { usage } = model;
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    reasoningTokens: usage.reasoningTokens,
    costUsd: usage.costUsd,
    costEstimated: usage.costUsd === undefined ? undefined : true,
    turns: reported?.turns,
    source: 'gateway',
    calls: usage.calls,
    retries: usage.retries,
    failedCalls: usage.failedCalls,
    modelsServed: usage.modelsServed,
    pricesAsOf: PRICES_AS_OF,
    costIncomplete: usage.costIncomplete || undefined,
    agentReported: reported,
    mismatch: reported ? mismatch(usage, reported) : undefined,
  };
}

/** Where the CLI's figure and the gateway's count disagree, in words; undefined when they agree. */
function mismatch(counted: TrialGatewayOutcome['usage'], reported: Usage): string | undefined {
  const fields: Array<[string, number, number]> = [
    ['input', counted.inputTokens, reported.inputTokens],
    ['output', counted.outputTokens, reported.outputTokens],
    ['cached input', counted.cachedInputTokens, reported.cachedInputTokens],
  ];
  const differ = fields.filter(([, a, b]) => a !== b);
  if (differ.length === 0) return undefined;
  return `the CLI reported ${differ.map(([name, , b]) => `${b} ${name}`).join(', ')} tokens; the gateway counted ${differ.map(([name, a]) => `${a} ${name}`).join(', ')}`;
}
