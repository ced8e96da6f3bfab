import { describe, expect, it } from 'vitest';
import { executableAfter } from '../../src/evalyaml/task-files.js';

describe('executableAfter', () => {
  it('reads the execute bit a chmod mode leaves, octal or symbolic', () => {
    expect(executableAfter(undefined, true)).toBe(true);
    expect(executableAfter('+x', false)).toBe(true);
    expect(executableAfter('u+rwx,go+rx', false)).toBe(true);
    expect(executableAfter('a-x', true)).toBe(false);
    expect(executableAfter('u=rw', true)).toBe(false);
    expect(executableAfter('+r', true)).toBe(true);
    expect(executableAfter('755', false)).toBe(true);
    expect(executableAfter('0644', true)).toBe(false);
  });
});
