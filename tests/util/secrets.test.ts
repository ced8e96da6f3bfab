import { describe, expect, it } from 'vitest';
import { collectForwardedEnv, isSecretName, Redactor } from '../../src/util/secrets.js';

describe('secrets', () => {
  it('redacts the strings of a JSON value, keys too, and leaves JSON words and numbers alone', () => {
    const redactor = new Redactor(['true', '12345']);
    const value = { flag: true, count: 12345, note: 'it is true: 12345', true: ['x12345y'], nothing: null };
    expect(redactor.redactValue(value)).toEqual({
      flag: true,
      count: 12345,
      note: 'it is [REDACTED]: [REDACTED]',
      '[REDACTED]': ['x[REDACTED]y'],
      nothing: null,
    });
  });

  it('recognises secret-looking variable names', () => {
    for (const name of [
      'ANTHROPIC_API_KEY',
      'GITHUB_TOKEN',
      'MY_SECRET_THING',
      'DB_PASSWORD',
      'GOOGLE_APPLICATION_CREDENTIALS',
    ])
      expect(isSecretName(name), name).toBe(true);
    for (const name of ['PATH', 'HOME', 'TOKENIZER', 'KEYBOARD']) expect(isSecretName(name), name).toBe(false);
  });

  it('forwards secret-looking variables and --env entries, and treats --env values as secrets', () => {
    const forwarded = collectForwardedEnv(
      {
        GEMINI_API_KEY: 'g-123456',
        PATH: '/bin',
        REGION: 'eu-west-1',
        EMPTY_TOKEN: '',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      },
      ['REGION', 'MODE=fast-mode', 'MISSING'],
    );
    expect(forwarded.env).toEqual({
      GEMINI_API_KEY: 'g-123456',
      REGION: 'eu-west-1',
      MODE: 'fast-mode',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    expect(forwarded.secrets.sort()).toEqual(['eu-west-1', 'fast-mode', 'g-123456']);
  });

  it('redacts text and bytes, longest secret first, and leaves very short values alone', () => {
    const redactor = new Redactor(['abcd', 'abcdefgh', 'x']);
    expect(redactor.redact('key=abcdefgh and abcd; x stays')).toBe('key=[REDACTED] and [REDACTED]; x stays');
    expect(redactor.redactBuffer(Buffer.from('..abcd..abcd..')).toString()).toBe('..[REDACTED]..[REDACTED]..');
    const untouched = Buffer.from('nothing here');
    expect(redactor.redactBuffer(untouched)).toBe(untouched);
  });
});
