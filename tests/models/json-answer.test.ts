import { describe, expect, it } from 'vitest';
import { extractJsonObject } from '../../src/models/json-answer.js';

describe('extractJsonObject', () => {
  it('reads a bare object, a fenced block, or the object inside prose', () => {
    expect(extractJsonObject('{"score": 1}')).toEqual({ score: 1 });
    expect(extractJsonObject('Sure.\n```json\n{"score": 0.5}\n```')).toEqual({ score: 0.5 });
    expect(extractJsonObject('My verdict: {"score": 0, "reasoning": "none"} — done')).toEqual({
      score: 0,
      reasoning: 'none',
    });
    expect(extractJsonObject('no json here')).toBeUndefined();
  });
});
