import { describe, expect, it } from 'vitest';
import { parseDeterministicOutput } from '../../src/graders/deterministic.js';

describe('parseDeterministicOutput', () => {
  it('takes the last JSON object line of stdout', () => {
    const stdout =
      'starting\n{"score": 0.1}\nmore noise\n{"score": 0.75, "details": "3/4", "checks": [{"name": "a", "passed": true}]}\n';
    expect(parseDeterministicOutput(stdout)).toEqual({
      ok: true,
      value: { score: 0.75, details: '3/4', checks: [{ name: 'a', passed: true }] },
    });
  });

  it('says what it expected and what it found', () => {
    const none = parseDeterministicOutput('all good\n');
    expect(none).toMatchObject({ ok: false });
    expect(!none.ok && none.problem).toMatch(/expected a JSON object line .* on stdout, found "all good"/);
    const empty = parseDeterministicOutput('');
    expect(!empty.ok && empty.problem).toMatch(/found no output$/);
    const outOfRange = parseDeterministicOutput('{"score": 1.5}');
    expect(!outOfRange.ok && outOfRange.problem).toMatch(/score: .*found \{"score": 1\.5\}/);
    const badChecks = parseDeterministicOutput('{"score": 1, "checks": [{"name": "a"}]}');
    expect(!badChecks.ok && badChecks.problem).toContain('checks.0.passed');
  });
});
