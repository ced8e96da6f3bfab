import type { JudgeProviderName } from '../task/types.js';

/**
 * The model providers a judge can call, with what each needs from the host: its key variables, its base URL
 * variable and default, a default model. Pure; the host environment is passed in.
 */

export type ModelProvider = JudgeProviderName;

export interface ProviderInfo {
  /** Host variables holding the key, the first that is set wins. */
  keyVariables: readonly string[];
  baseUrlVariable: string;
  defaultBaseUrl: string;
  defaultModel: string;
}

export const PROVIDERS: Record<ModelProvider, ProviderInfo> = {
  anthropic: {
    keyVariables: ['ANTHROPIC_API_KEY'],
    baseUrlVariable: 'ANTHROPIC_BASE_URL',
    defaultBaseUrl: 'https://api.anthropic.com',
    defaultModel: 'claude-sonnet-4-5',
  },
  gemini: {
    keyVariables: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    baseUrlVariable: 'GEMINI_BASE_URL',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
    defaultModel: 'gemini-2.5-flash',
  },
  openai: {
    keyVariables: ['OPENAI_API_KEY'],
    baseUrlVariable: 'OPENAI_BASE_URL',
    defaultBaseUrl: 'https://api.openai.com/v1',
    defaultModel: 'gpt-4.1-mini',
  },
};

/** The provider a model name belongs to, when the name says (`claude-…`, `gemini-…`, `gpt-…`, `o3…`). */
export function providerOfModel(model: string | undefined): ModelProvider | undefined {
  if (model === undefined) return undefined;
  const name = model.toLowerCase();
  // `openrouter/anthropic/claude-…`, `google/gemini-…`: the last segment names the model.
  const bare = name.slice(name.lastIndexOf('/') + 1);
  if (bare.startsWith('claude') || name.includes('anthropic/')) return 'anthropic';
  if (bare.startsWith('gemini') || name.includes('google/')) return 'gemini';
  if (/^(gpt|o\d|chatgpt|codex)/.test(bare) || name.includes('openai/')) return 'openai';
  return undefined;
}

/** The first key variable of a provider that is set on the host. */
export function keyFor(
  provider: ModelProvider,
  env: NodeJS.ProcessEnv,
): { variable: string; value: string } | undefined {
  for (const variable of PROVIDERS[provider].keyVariables) {
    const value = env[variable];
    if (value) return { variable, value };
  }
  return undefined;
}

/** Every provider whose key is set on the host, in PROVIDERS order. */
export function providersWithKeys(env: NodeJS.ProcessEnv): ModelProvider[] {
  return (Object.keys(PROVIDERS) as ModelProvider[]).filter((provider) => keyFor(provider, env) !== undefined);
}
