import { describe, expect, it } from 'vitest';
import { baseUrl, requireKey, shellSplit } from '../../../src/agents/cli/env.js';
import { AgentError } from '../../../src/errors.js';
import { shellJoin, shellQuote } from '../../../src/util/shell.js';

describe('shell quoting', () => {
  it('quotes only what needs it and round-trips through bash-style splitting', () => {
    expect(shellQuote('claude-sonnet-4-5')).toBe('claude-sonnet-4-5');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    const words = ['-p', '', 'a b', "it's", '$HOME', 'x"y'];
    expect(shellSplit(shellJoin(words))).toEqual(words);
  });

  it('splits the forms CLIs use to report commands', () => {
    expect(shellSplit("/bin/bash -lc 'superlint check'")).toEqual(['/bin/bash', '-lc', 'superlint check']);
    expect(shellSplit(`/bin/bash -c "sed -i -e 's/x*"'$//'"' f"`)).toEqual([
      '/bin/bash',
      '-c',
      "sed -i -e 's/x*$//' f",
    ]);
    expect(shellSplit('a\\ b "c\\"d"')).toEqual(['a b', 'c"d']);
    expect(shellSplit("'unterminated")).toBeUndefined();
  });
});

describe('keys and endpoints', () => {
  it('requires the key, failing before the first model call', () => {
    expect(requireKey({ K: 'v' }, 'K', 'claude')).toBe('v');
    expect(() => requireKey({}, 'K', 'claude')).toThrow(AgentError);
    try {
      requireKey({ K: '' }, 'K', 'claude');
    } catch (error) {
      expect((error as AgentError).beforeFirstModelCall).toBe(true);
      expect((error as AgentError).message).toBe('claude: K is not set');
    }
  });

  it('validates base URLs and drops a trailing slash', () => {
    expect(baseUrl({}, 'U', 'codex')).toBeUndefined();
    expect(baseUrl({ U: 'http://127.0.0.1:8080/v1/' }, 'U', 'codex')).toBe('http://127.0.0.1:8080/v1');
    expect(() => baseUrl({ U: 'not a url' }, 'U', 'codex')).toThrow(/U is not a URL/);
    expect(() => baseUrl({ U: 'ftp://host' }, 'U', 'codex')).toThrow(/must be an http\(s\) URL/);
  });
});
