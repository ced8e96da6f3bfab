import { describe, expect, it } from 'vitest';
import { align, comparable, firstDivergence, MAX_CELLS, normalise, signature } from '../../src/view/align.js';
import type { Step } from '../../src/view/model.js';

const command = (text: string): Step => ({
  line: 1,
  kind: 'command',
  title: text,
  input: { text },
  action: true,
  source: 'agent',
});

describe('align', () => {
  it('pairs the common steps and leaves each arm its own', () => {
    const rows = align(['ls', 'cat SKILL.md', 'lint', 'test'], ['ls', 'grep x', 'lint', 'test']);
    expect(rows).toEqual([{ a: 0, b: 0 }, { a: 1 }, { b: 1 }, { a: 2, b: 2 }, { a: 3, b: 3 }]);
    expect(firstDivergence(rows)).toBe(1);
  });

  it('finds the longest common subsequence in the middle', () => {
    const rows = align(['a', 'x', 'b', 'y', 'c'], ['a', 'b', 'z', 'c']);
    const pairs = rows.filter((row) => row.a !== undefined && row.b !== undefined);
    expect(pairs).toEqual([
      { a: 0, b: 0 },
      { a: 2, b: 1 },
      { a: 4, b: 3 },
    ]);
    // Every step of each side appears exactly once, in order.
    expect(rows.flatMap((row) => (row.a === undefined ? [] : [row.a]))).toEqual([0, 1, 2, 3, 4]);
    expect(rows.flatMap((row) => (row.b === undefined ? [] : [row.b]))).toEqual([0, 1, 2, 3]);
  });

  it('has no divergence when both took the same steps, and handles empty sides', () => {
    expect(firstDivergence(align(['a', 'b'], ['a', 'b']))).toBeUndefined();
    expect(align([], ['a'])).toEqual([{ b: 0 }]);
    expect(align(['a'], [])).toEqual([{ a: 0 }]);
  });

  it('pairs nothing in a middle too large to match, but keeps every step', () => {
    const side = Math.ceil(Math.sqrt(MAX_CELLS)) + 2;
    const a = Array.from({ length: side }, (_, i) => `a${i}`);
    const b = Array.from({ length: side }, (_, i) => `b${i}`);
    const rows = align(['same', ...a], ['same', ...b]);
    expect(rows[0]).toEqual({ a: 0, b: 0 });
    expect(rows).toHaveLength(1 + 2 * side);
  });
});

describe('signature', () => {
  it('masks what differs between two runs of the same step', () => {
    expect(signature(command('bash /tmp/skill-eval-1-a/solution/solve.sh'))).toBe(
      signature(command('bash   /tmp/skill-eval-2-b/solution/solve.sh')),
    );
    expect(normalise('git checkout 3f2a9c0d1e')).toBe('git checkout #');
    expect(normalise('bash /tmp/skill-eval-tests-x/skill-eval-1-t__1-ab/solution/solve.sh')).toBe(
      'bash /tmp/…/solution/solve.sh',
    );
    expect(signature(command('ls'))).not.toBe(signature(command('ls -la')));
  });

  it('uses a tool call’s name and main argument', () => {
    const read = (path: string): Step => ({
      line: 1,
      kind: 'tool_call',
      title: 'Read',
      input: { text: JSON.stringify({ file_path: path }) },
      action: true,
    });
    expect(signature(read('a.txt'))).toBe('Read(a.txt)');
    expect(signature(read('a.txt'))).not.toBe(signature(read('b.txt')));
  });

  it('compares the agent’s actions and messages, not the lifecycle', () => {
    const steps: Step[] = [
      { line: 1, kind: 'phase', title: 'agent start' },
      command('ls'),
      { line: 3, kind: 'command', title: 'bash test.sh', source: 'verifier', action: false },
      { line: 4, kind: 'message', title: 'assistant' },
    ];
    expect(comparable(steps)).toEqual([steps[1], steps[3]]);
  });
});
