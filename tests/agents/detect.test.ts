import { describe, expect, it } from 'vitest';
import { AGENT_FOR_KEY, detectAgent } from '../../src/agents/detect.js';
import { agents } from '../../src/agents/registry.js';
import { UsageError } from '../../src/errors.js';

describe('the agent from the API key that is set', () => {
  it('one key names its agent', () => {
    expect(detectAgent({ ANTHROPIC_API_KEY: 'sk-ant-1' })).toBe('claude');
    expect(detectAgent({ GEMINI_API_KEY: 'g-1', PATH: '/bin' })).toBe('gemini');
    expect(detectAgent({ OPENAI_API_KEY: 'sk-1' })).toBe('codex');
  });

  it('no key (or an empty one): undefined, the caller keeps its default', () => {
    expect(detectAgent({})).toBeUndefined();
    expect(detectAgent({ ANTHROPIC_API_KEY: '' })).toBeUndefined();
  });

  it('several keys: a UsageError listing them and asking for --agent', () => {
    const error = (() => {
      try {
        detectAgent({ ANTHROPIC_API_KEY: 'a', GEMINI_API_KEY: 'b' });
      } catch (e) {
        return e;
      }
    })() as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe('several API keys are set (ANTHROPIC_API_KEY, GEMINI_API_KEY): which agent should run?');
    expect(error.hint).toBe('pass --agent, e.g. --agent=claude or --agent=gemini (several: --agent=claude,gemini)');
  });

  it('every detected agent exists and needs exactly that key', () => {
    for (const [key, name] of Object.entries(AGENT_FOR_KEY))
      expect(agents[name as keyof typeof agents].requiredEnv, name).toEqual([key]);
  });
});
