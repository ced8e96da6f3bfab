import { keyFor, type ModelProvider, PROVIDERS, providerOfModel, providersWithKeys } from '../models/providers.js';
import type { GraderSpec } from '../task/types.js';
import type { JudgeSettings } from './types.js';

/** A judge ready to call: provider, model, endpoint and key (host only). */
export interface Judge {
  provider: ModelProvider;
  model: string;
  baseUrl: string;
  apiKey?: string | undefined;
  /** The host variable the key came from. */
  keyVariable?: string | undefined;
}

export type JudgeResolution = { ok: true; judge: Judge } | { ok: false; message: string; hint: string };

/**
 * Which judge an llm_rubric grader gets: its own `model`, else `--grader-model`, else the provider's default;
 * its own `provider`, else the model's (`claude-…` → anthropic), else the first provider whose key is set
 * (anthropic, gemini, openai). An OpenAI-compatible endpoint other than api.openai.com may go without a key.
 */
export function resolveJudge(spec: GraderSpec, settings: JudgeSettings): JudgeResolution {
  const model = spec.model ?? settings.model;
  const { env } = settings;
  const provider =
    spec.provider ?? providerOfModel(model) ?? providersWithKeys(env)[0] ?? (spec.baseUrl ? 'openai' : undefined);
  if (provider === undefined)
    return {
      ok: false,
      message: `grader "${spec.name}" needs a judge model, and no judge key is set`,
      hint: `  export ANTHROPIC_API_KEY=…  (or GEMINI_API_KEY, OPENAI_API_KEY), or pass --grader-model <id>;\n  for a local OpenAI-compatible server set provider = "openai" and base_url in task.toml`,
    };
  const info = PROVIDERS[provider];
  const baseUrl = spec.baseUrl ?? env[info.baseUrlVariable] ?? info.defaultBaseUrl;
  const key = keyFor(provider, env);
  const judge: Judge = {
    provider,
    model: model ?? info.defaultModel,
    baseUrl,
    apiKey: key?.value,
    keyVariable: key?.variable,
  };
  const keyless = provider === 'openai' && baseUrl !== info.defaultBaseUrl;
  if (!key && !keyless)
    return {
      ok: false,
      message: `grader "${spec.name}" judges with ${provider}/${judge.model}, which needs ${info.keyVariables.join(' or ')}, which is not set`,
      hint: `  export ${info.keyVariables[0]}=…   (read on the host only; never sent to the sandbox)`,
    };
  return { ok: true, judge };
}

const AGENT_FAMILIES: Record<string, ModelProvider> = { claude: 'anthropic', gemini: 'gemini', codex: 'openai' };

/** A judge of the agent's own model family tends to favour it: worth a warning, not an error. */
export function sameFamilyWarning(
  agent: { name: string; model?: string | undefined },
  judge: Pick<Judge, 'provider' | 'model'>,
): string | undefined {
  const agentFamily = providerOfModel(agent.model) ?? AGENT_FAMILIES[agent.name];
  const judgeFamily = providerOfModel(judge.model) ?? judge.provider;
  if (agentFamily === undefined || agentFamily !== judgeFamily) return undefined;
  return `the judge ${judge.provider}/${judge.model} is of the same model family as the agent ${agent.name}${agent.model ? ` (${agent.model})` : ''}: it may favour its own kind`;
}
