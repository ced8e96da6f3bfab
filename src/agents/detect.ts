import { UsageError } from '../errors.js';

/** The agent each provider's API key stands for, when it is the only key set (`eval` and `init` without --agent). */
export const AGENT_FOR_KEY: Readonly<Record<string, string>> = {
  ANTHROPIC_API_KEY: 'claude',
  GEMINI_API_KEY: 'gemini',
  OPENAI_API_KEY: 'codex',
};

/**
 * The agent the one API key that is set points to; undefined when no key is set (the caller keeps its default).
 * Several keys: a UsageError asking for --agent, listing them.
 */
export function detectAgent(env: NodeJS.ProcessEnv): string | undefined {
  const keys = Object.keys(AGENT_FOR_KEY).filter((name) => (env[name] ?? '') !== '');
  if (keys.length === 0) return undefined;
  if (keys.length > 1)
    throw new UsageError(`several API keys are set (${keys.join(', ')}): which agent should run?`, {
      hint: `pass --agent, e.g. ${keys.map((key) => `--agent=${AGENT_FOR_KEY[key]}`).join(' or ')} (several: --agent=${keys.map((key) => AGENT_FOR_KEY[key]).join(',')})`,
    });
  return AGENT_FOR_KEY[keys[0]!];
}
