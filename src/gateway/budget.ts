import type { GatewayUsage, TrialBudget } from './types.js';

/**
 * A job's spending limit, shared by the gateways of all its trials: each charges what its calls cost, and
 * every gateway refuses new calls once the job is at or over it.
 */
export class JobBudget {
  private spent = 0;

  constructor(readonly maxCostUsd: number) {}

  get spentUsd(): number {
    return this.spent;
  }

  get exceeded(): boolean {
    return this.spent >= this.maxCostUsd;
  }

  /** Adds a call's cost; true when the job is now at or over its budget. */
  charge(usd: number): boolean {
    this.spent += usd;
    return this.exceeded;
  }
}

/** Why the trial (or its job) may make no further call, or undefined while it may. */
export function budgetExhausted(budget: TrialBudget | undefined, usage: GatewayUsage): string | undefined {
  if (!budget) return undefined;
  const tokens = usage.inputTokens + usage.outputTokens;
  if (budget.maxTokens !== undefined && tokens >= budget.maxTokens)
    return `the trial's token budget is spent: ${tokens} tokens used, --max-tokens-per-trial ${budget.maxTokens}`;
  // A cost budget fails closed: spending it cannot be measured once a call had no price.
  const costLimited = budget.maxCostUsd !== undefined || budget.job !== undefined;
  if (costLimited && usage.costIncomplete)
    return "a call's model has no price, so the cost budget cannot be enforced: add the model (model_served in model_calls.jsonl) to the price table with SKILL_EVAL_PRICES_FILE";
  const cost = usage.costUsd ?? 0;
  if (budget.maxCostUsd !== undefined && cost >= budget.maxCostUsd)
    return `the trial's cost budget is spent: $${cost.toFixed(6)} used, --max-cost-per-trial ${budget.maxCostUsd}`;
  if (budget.job?.exceeded)
    return `the job's cost budget is spent: $${budget.job.spentUsd.toFixed(6)} used, --max-cost ${budget.job.maxCostUsd}`;
  return undefined;
}
