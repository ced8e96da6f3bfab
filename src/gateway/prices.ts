import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { errorMessage, UsageError } from '../errors.js';
import type { CallUsage } from './types.js';

/**
 * List prices in USD per million tokens: the gateway prices every call with them, and CLI agents whose CLI
 * reports no cost (Gemini CLI, Codex, OpenCode) estimate theirs (`costEstimated: true`). Standard tier
 * (Gemini: prompts up to 200k tokens), as published on the date below; documented in docs/gateway.md. A model
 * missing here gets no cost rather than a guess. Add or override entries with a JSON file named by
 * SKILL_EVAL_PRICES_FILE (or pass a table to the gateway): `{"my-model": {"input": 1, "output": 2, "cachedInput": 0.1}}`.
 */
export interface ModelPrice {
  /** Uncached input tokens (cache writes are billed at this rate too). */
  input: number;
  output: number;
  /** Input tokens served from the provider's prompt cache. */
  cachedInput: number;
}

export interface PriceTable {
  /** When the prices were last checked against the providers' price pages (YYYY-MM-DD). */
  asOf: string;
  /** Where the table came from: `built-in`, plus each override file. */
  source: string;
  models: Readonly<Record<string, ModelPrice>>;
}

/** The date the built-in prices were checked. */
export const PRICES_AS_OF = '2026-11-24';

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
  // Anthropic
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1 },
};

export const BUILT_IN_PRICES: PriceTable = { asOf: PRICES_AS_OF, source: 'built-in', models: PRICES };

const priceFileSchema = z.record(
  z.string(),
  z.object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cachedInput: z.number().nonnegative().optional(),
  }),
);

/** Reads an override file; `what` names it in errors (the variable or flag that pointed at it). */
export function readPriceFile(file: string, what = file): Record<string, ModelPrice> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${what}: ${errorMessage(error)}`);
  }
  const parsed = priceFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(
      `${what}: expected {"model": {"input": USD per 1M, "output": …, "cachedInput": …}}: ${parsed.error.message}`,
    );
  }
  return Object.fromEntries(
    Object.entries(parsed.data).map(([model, p]) => [
      model,
      { input: p.input, output: p.output, cachedInput: p.cachedInput ?? p.input },
    ]),
  );
}

/** A table with `models` added over `base` (same names replaced). */
export function withPrices(base: PriceTable, models: Record<string, ModelPrice>, source: string): PriceTable {
  return { asOf: base.asOf, source: `${base.source} + ${source}`, models: { ...base.models, ...models } };
}

/**
 * The built-in table, with SKILL_EVAL_PRICES_FILE's entries over it when the variable is set, and then
 * `file`'s (a flag's) over those.
 */
export function priceTable(env: NodeJS.ProcessEnv = process.env, file?: string): PriceTable {
  const fromEnv = env.SKILL_EVAL_PRICES_FILE;
  let table = BUILT_IN_PRICES;
  if (fromEnv) table = withPrices(table, readPriceFile(fromEnv, `SKILL_EVAL_PRICES_FILE ${fromEnv}`), fromEnv);
  if (file) table = withPrices(table, readPriceFile(file), file);
  return table;
}

/** The price of a model: exact name first, then without a provider prefix (`openai/gpt-5`) or a date suffix. */
export function priceIn(table: PriceTable, model: string): ModelPrice | undefined {
  const bare = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  for (const name of [model, bare, bare.replace(/-\d{8}$/, ''), bare.replace(/-\d{4}-\d{2}-\d{2}$/, '')]) {
    const price = table.models[name];
    if (price) return price;
  }
  return undefined;
}

export function priceFor(model: string, env: NodeJS.ProcessEnv = process.env): ModelPrice | undefined {
  return priceIn(priceTable(env), model);
}

/** USD, rounded to a millionth of a dollar. `input` counts every input token, the cached part billed at its rate. */
function cost(price: ModelPrice, input: number, cached: number, output: number): number {
  const uncached = Math.max(0, input - cached);
  const usd = (uncached * price.input + cached * price.cachedInput + output * price.output) / 1_000_000;
  return Math.round(usd * 1e6) / 1e6;
}

/** The cost of one gateway call; undefined when the model has no price. */
export function callCost(table: PriceTable, model: string, usage: CallUsage): number | undefined {
  const price = priceIn(table, model);
  return price && cost(price, usage.input_tokens, usage.cached_input_tokens, usage.output_tokens);
}

/**
 * Estimated cost of a trial's usage. `inputTokens` counts every input token, cached ones included (the form
 * every harness reports); the cached part is billed at the cached rate.
 */
export function estimateCost(
  model: string,
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number },
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const price = priceFor(model, env);
  return price && cost(price, usage.inputTokens, usage.cachedInputTokens, usage.outputTokens);
}
