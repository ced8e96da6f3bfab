import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { JobBudget } from '../gateway/budget.js';
import { type PriceTable, priceTable, readPriceFile, withPrices } from '../gateway/prices.js';
import { MODEL_CALLS_FILE, type TrialGatewaySettings } from '../gateway/trial.js';
import type { TrialResult } from '../results/schema.js';
import type { EvalJobOptions } from './eval-options.js';
import { type JobConfig, readJobConfig } from './job-config.js';

/** How a job's trials use their model gateways: the flags, resolved (docs/gateway.md). */
export interface JobGateway {
  record: boolean;
  maxTokensPerTrial?: number | undefined;
  maxCostPerTrial?: number | undefined;
  /** `--max-cost`: no trial starts once the job has spent it. */
  maxCost?: number | undefined;
  /** `--replay`: the replayed job's directory; each trial answers from its namesake's model_calls.jsonl. */
  replayDir?: string | undefined;
  prices?: PriceTable | undefined;
}

/**
 * The gateway flags → the job's gateway (false: `--no-gateway`) and what job.json records of it; a replayed job is
 * checked to have recorded its calls (unless this run resumes a replay).
 */
export async function planJobGateway(
  options: EvalJobOptions,
  context: { cwd: string; hostEnv: NodeJS.ProcessEnv; resumed: boolean },
): Promise<{ gateway: JobGateway | false; config: NonNullable<JobConfig['gateway']> }> {
  const { cwd, hostEnv } = context;
  const enabled = options.gateway !== false;
  const budgets = { maxTokensPerTrial: options.maxTokensPerTrial, maxCostPerTrial: options.maxCostPerTrial };
  if (!enabled) {
    const flag = Object.entries({
      '--max-tokens-per-trial': budgets.maxTokensPerTrial,
      '--max-cost-per-trial': budgets.maxCostPerTrial,
      '--max-cost': options.maxCost,
      '--replay': options.replay,
      '--prices': options.prices,
    }).find(([, value]) => value !== undefined)?.[0];
    if (flag)
      throw new UsageError(`${flag} needs the model gateway, but --no-gateway turns it off`, {
        hint: `drop --no-gateway (budgets, replay and prices are the gateway's), or drop ${flag}`,
      });
    if (options.record === false)
      throw new UsageError('--no-record and --no-gateway: nothing records without the gateway');
  }
  const replayDir = options.replay === undefined ? undefined : resolve(cwd, options.replay);
  const replayed = replayDir === undefined ? undefined : await readJobConfig(replayDir).catch(() => undefined);
  if (replayDir !== undefined && !context.resumed) checkReplaySource(replayDir, replayed);
  const prices = options.prices === undefined ? undefined : resolve(cwd, options.prices);
  const config = {
    enabled,
    record: options.record !== false,
    max_tokens_per_trial: budgets.maxTokensPerTrial,
    max_cost_per_trial: budgets.maxCostPerTrial,
    max_cost: options.maxCost,
    prices,
    replay: replayDir === undefined ? undefined : { job_id: replayed?.job_id ?? replayDir, dir: replayDir },
  };
  if (!enabled) return { gateway: false, config };
  return {
    gateway: {
      record: config.record,
      ...budgets,
      maxCost: options.maxCost,
      replayDir,
      prices:
        prices === undefined
          ? undefined
          : withPrices(priceTable(hostEnv), readPriceFile(prices, `--prices ${prices}`), prices),
    },
    config,
  };
}

/**
 * The job's shared `--max-cost` budget, charged with what the job's finished trials already spent (a resumed job
 * goes on from there).
 */
export function jobBudget(gateway: JobGateway | false | undefined, done: Iterable<TrialResult>): JobBudget | undefined {
  if (!gateway || gateway.maxCost === undefined) return undefined;
  const budget = new JobBudget(gateway.maxCost);
  for (const result of done) budget.charge(result.usage?.costUsd ?? 0);
  return budget;
}

/** One trial's gateway settings: the job's, its share of the job budget, and its recording when replaying. */
export function trialGateway(
  gateway: JobGateway | false | undefined,
  budget: JobBudget | undefined,
  trialName: string,
): TrialGatewaySettings | false | undefined {
  if (gateway === undefined || gateway === false) return gateway;
  return {
    record: gateway.record,
    maxTokensPerTrial: gateway.maxTokensPerTrial,
    maxCostPerTrial: gateway.maxCostPerTrial,
    jobBudget: budget,
    replayFile: gateway.replayDir === undefined ? undefined : join(gateway.replayDir, trialName, MODEL_CALLS_FILE),
    prices: gateway.prices,
  };
}

/** `--replay JOB` needs a job that recorded its calls. */
export function checkReplaySource(dir: string, config: JobConfig | undefined): void {
  if (config?.gateway?.record === false || (config && config.gateway === undefined))
    throw new UsageError(`--replay ${dir}: that job did not record its model calls`, {
      hint: 'replay a job run with the gateway and --record (the default)',
    });
  if (!existsSync(join(dir, 'job.json'))) throw new UsageError(`--replay ${dir}: no job.json there`);
}
