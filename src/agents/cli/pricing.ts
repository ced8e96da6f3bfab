import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { errorMessage, UsageError } from '../../errors.js';
import type { Usage } from '../types.js';

/**
 * List prices in USD per million tokens, used only when a CLI does not report cost itself (Claude Code does;
 * Gemini CLI, Codex and OpenCode do not). Results computed from this table carry `costEstimated: true`.
 * Published list prices for the standard tier (Gemini: prompts up to 200k tokens), as documented in
 * docs/agents.md; a model missing here gets no cost rather than a guess. Add or override entries with a JSON
 * file named by SKILL_EVAL_PRICES_FILE: `{"my-model": {"input": 1, "output": 2, "cachedInput": 0.1}}`.
 */
export interface ModelPrice {
  /** Uncached input tokens. */
  input: number;
  output: number;
  /** Input tokens served from the provider's prompt cache. */
  cachedInput: number;
}

const PRICES: Readonly<Record<string, ModelPrice>> = {
  // OpenAI
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-codex': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  // Google
  'gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.31 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.075 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  // Anthropic (for OpenCode or gateways serving Claude models; Claude Code reports its own cost)
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1 },
};

const priceFileSchema = z.record(
  z.string(),
  z.object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cachedInput: z.number().nonnegative().optional(),
  }),
);

function extraPrices(env: NodeJS.ProcessEnv): Record<string, ModelPrice> {
  const file = env.SKILL_EVAL_PRICES_FILE;
  if (!file) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`SKILL_EVAL_PRICES_FILE ${file}: ${errorMessage(error)}`);
  }
  const parsed = priceFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(
      `SKILL_EVAL_PRICES_FILE ${file}: expected {"model": {"input": USD per 1M, "output": …, "cachedInput": …}}: ${parsed.error.message}`,
    );
  }
  return Object.fromEntries(
    Object.entries(parsed.data).map(([model, p]) => [
      model,
      { input: p.input, output: p.output, cachedInput: p.cachedInput ?? p.input },
    ]),
  );
}

/** The price of a model: exact name first, then without a provider prefix (`openai/gpt-5`) or a date suffix. */
export function priceFor(model: string, env: NodeJS.ProcessEnv = process.env): ModelPrice | undefined {
  const table = { ...PRICES, ...extraPrices(env) };
  const bare = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  for (const name of [model, bare, bare.replace(/-\d{8}$/, ''), bare.replace(/-\d{4}-\d{2}-\d{2}$/, '')]) {
    const price = table[name];
    if (price) return price;
  }
  return undefined;
}

/**
 * Estimated cost of a trial's usage. `inputTokens` counts every input token, cached ones included (the form
 * every harness reports); the cached part is billed at the cached rate.
 */
export function estimateCost(
  model: string,
  usage: Pick<Usage, 'inputTokens' | 'outputTokens' | 'cachedInputTokens'>,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const price = priceFor(model, env);
  if (!price) return undefined;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens);
  const usd =
    (uncached * price.input + usage.cachedInputTokens * price.cachedInput + usage.outputTokens * price.output) /
    1_000_000;
  return Math.round(usd * 1e6) / 1e6;
}
