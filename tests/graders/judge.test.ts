import { describe, expect, it } from 'vitest';
import { resolveJudge, sameFamilyWarning } from '../../src/graders/judge.js';
import type { GraderSpec } from '../../src/task/types.js';

const rubric: GraderSpec = { type: 'llm_rubric', name: 'approach', weight: 1, rubric: 'r.md' };

describe('resolveJudge', () => {
  it('infers the provider from the model name, and the key and base URL from the host', () => {
    const resolved = resolveJudge(rubric, {
      model: 'gemini-2.5-pro',
      env: { GOOGLE_API_KEY: 'g', ANTHROPIC_API_KEY: 'a', GEMINI_BASE_URL: 'http://127.0.0.1:9' },
    });
    expect(resolved).toEqual({
      ok: true,
      judge: {
        provider: 'gemini',
        model: 'gemini-2.5-pro',
        baseUrl: 'http://127.0.0.1:9',
        apiKey: 'g',
        keyVariable: 'GOOGLE_API_KEY',
      },
    });
  });

  it("prefers the grader's own model and provider, else the one key that is set, with its default model", () => {
    const own = resolveJudge(
      { ...rubric, model: 'claude-opus-4', provider: 'anthropic' },
      { model: 'gpt-5', env: { ANTHROPIC_API_KEY: 'a' } },
    );
    expect(own.ok && own.judge).toMatchObject({ provider: 'anthropic', model: 'claude-opus-4' });
    const byKey = resolveJudge(rubric, { env: { OPENAI_API_KEY: 'o' } });
    expect(byKey.ok && byKey.judge).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1-mini',
      baseUrl: 'https://api.openai.com/v1',
    });
  });

  it('lets a local OpenAI-compatible server go without a key, but not a hosted API', () => {
    const local = resolveJudge(
      { ...rubric, provider: 'openai', baseUrl: 'http://127.0.0.1:8080', model: 'qwen' },
      { env: {} },
    );
    expect(local.ok && local.judge.apiKey).toBeUndefined();
    const hosted = resolveJudge(rubric, { model: 'claude-sonnet-4-5', env: {} });
    expect(hosted).toMatchObject({
      ok: false,
      message: expect.stringMatching(/needs ANTHROPIC_API_KEY, which is not set/),
    });
    expect(resolveJudge(rubric, { env: {} })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/no judge key is set/),
    });
  });
});

describe('sameFamilyWarning', () => {
  it('warns when the judge is of the agent model family', () => {
    expect(sameFamilyWarning({ name: 'claude' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' })).toMatch(
      /same model family/,
    );
    expect(
      sameFamilyWarning({ name: 'opencode', model: 'gpt-5' }, { provider: 'openai', model: 'gpt-4.1' }),
    ).toBeDefined();
    expect(
      sameFamilyWarning({ name: 'gemini' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' }),
    ).toBeUndefined();
    expect(
      sameFamilyWarning({ name: 'oracle' }, { provider: 'anthropic', model: 'claude-sonnet-4-5' }),
    ).toBeUndefined();
  });
});
