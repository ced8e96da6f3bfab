import { describe, expect, it } from 'vitest';
import { compareSnapshots, describeDiff } from '../../src/graders/workspace-diff.js';

describe('compareSnapshots / describeDiff', () => {
  it('lists added, changed and removed files', () => {
    const before = new Map([
      ['a.txt', '1'],
      ['b.txt', '2'],
      ['gone.txt', '3'],
    ]);
    const after = new Map([
      ['a.txt', '1'],
      ['b.txt', '22'],
      ['new.txt', '4'],
    ]);
    const diff = compareSnapshots(before, after);
    expect(diff).toEqual({ added: ['new.txt'], changed: ['b.txt'], removed: ['gone.txt'], truncated: false });
    const text = describeDiff({ ...diff, excerpts: [{ path: 'new.txt', text: 'hello' }] });
    expect(text).toContain('Added (1): new.txt');
    expect(text).toContain('Changed (1): b.txt');
    expect(text).toContain('Removed (1): gone.txt');
    expect(text).toContain('--- new.txt (now; first 3000 bytes)\nhello');
    expect(describeDiff(undefined)).toBe('(not recorded)');
  });
});
