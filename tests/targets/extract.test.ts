import { describe, expect, it } from 'vitest';
import { GSM8K_STRICT_PATTERN } from '../../src/targets/contract.js';
import {
  answersMatch,
  extractAnswer,
  gsm8kGold,
  lastBoxed,
  lastNumber,
  parseNumeric,
  renderTemplate,
} from '../../src/targets/extract.js';

describe('answer extraction', () => {
  it('reads GSM8K gold: the number after ####, commas stripped', () => {
    expect(gsm8kGold('40*30=<<40*30=1200>>1200\n#### 1,200')).toBe('1200');
    expect(gsm8kGold('no marker')).toBeUndefined();
    expect(gsm8kGold('#### ')).toBeUndefined();
  });

  it('strict takes the number after ####; flexible the last number', () => {
    const strict = {
      name: 'strict',
      type: 'regex' as const,
      pattern: GSM8K_STRICT_PATTERN,
      group: 1,
      select: 'first' as const,
    };
    expect(extractAnswer('so 3*4=12\n#### 12', strict)).toBe('12');
    expect(extractAnswer('The answer is 12.', strict)).toBeUndefined();
    expect(lastNumber('The answer is 12.')).toBe('12.');
    expect(lastNumber('costs $1,200 total')).toBe('$1,200');
    expect(lastNumber('no digits here . , $')).toBeUndefined();
    expect(lastNumber('it is -4')).toBe('-4');
  });

  it('finds the last \\boxed{} with nested braces', () => {
    expect(lastBoxed('first \\boxed{1} then \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(lastBoxed('none')).toBeUndefined();
    expect(extractAnswer('x = \\boxed{42}', { name: 'b', type: 'boxed' })).toBe('42');
  });

  it('compares numerically after normalisation; a missing answer or gold never matches', () => {
    expect(parseNumeric('$1,200.')).toBe(1200);
    expect(parseNumeric('19.750')).toBe(19.75);
    expect(parseNumeric('3/4')).toBe(0.75);
    expect(parseNumeric('twelve')).toBeUndefined();
    expect(answersMatch('$1,200', '1200', 'numeric')).toBe(true);
    expect(answersMatch('12.', '12', 'numeric')).toBe(true);
    expect(answersMatch('13', '12', 'numeric')).toBe(false);
    expect(answersMatch(undefined, '12', 'numeric')).toBe(false);
    expect(answersMatch('', '', 'text')).toBe(false);
    expect(answersMatch(' Paris. ', 'paris', 'text')).toBe(true);
    expect(answersMatch('Paris', 'paris', 'none')).toBe(false);
  });

  it('fills templates from row fields, with {{ }} as literal braces', () => {
    expect(renderTemplate('Q: {question}\n{{x}} {missing}', { question: 'why?' })).toBe('Q: why?\n{x} ');
  });
});
