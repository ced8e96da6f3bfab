import { describe, expect, it } from 'vitest';
import { keyFor, providerOfModel, providersWithKeys } from '../../src/models/providers.js';

describe('providers', () => {
  it('tells the provider from the model name', () => {
    expect(providerOfModel('claude-sonnet-4-5')).toBe('anthropic');
    expect(providerOfModel('openrouter/anthropic/claude-3')).toBe('anthropic');
    expect(providerOfModel('gemini-2.5-flash')).toBe('gemini');
    expect(providerOfModel('google/gemma-3')).toBe('gemini');
    expect(providerOfModel('gpt-4.1-mini')).toBe('openai');
    expect(providerOfModel('o3-mini')).toBe('openai');
    expect(providerOfModel('qwen2.5-coder')).toBeUndefined();
    expect(providerOfModel(undefined)).toBeUndefined();
  });

  it('finds keys in order, ignoring empty ones', () => {
    expect(keyFor('gemini', { GEMINI_API_KEY: '', GOOGLE_API_KEY: 'g' })).toEqual({
      variable: 'GOOGLE_API_KEY',
      value: 'g',
    });
    expect(providersWithKeys({ OPENAI_API_KEY: 'o', ANTHROPIC_API_KEY: 'a' })).toEqual(['anthropic', 'openai']);
  });
});
