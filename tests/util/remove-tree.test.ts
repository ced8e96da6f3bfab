import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTree } from '../../src/util/remove-tree.js';

describe('removeTree', () => {
  const made: string[] = [];
  const scratch = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'skill-eval-test-remove-tree-'));
    made.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('removes a small tree, an empty directory, a file, and accepts a missing path', async () => {
    const base = scratch();
    mkdirSync(join(base, 'tree/a/b'), { recursive: true });
    writeFileSync(join(base, 'tree/a/b/file.txt'), 'x');
    writeFileSync(join(base, 'tree/top.txt'), 'x');
    mkdirSync(join(base, 'tree/empty'));
    mkdirSync(join(base, 'lone-empty'));
    writeFileSync(join(base, 'lone-file'), 'x');
    for (const name of ['tree', 'lone-empty', 'lone-file', 'never-there']) await removeTree(join(base, name));
    expect(readdirSync(base)).toEqual([]);
  });

  it('removes a symlink, never what it points to', async () => {
    const base = scratch();
    mkdirSync(join(base, 'kept'));
    writeFileSync(join(base, 'kept/precious.txt'), 'x');
    mkdirSync(join(base, 'tree'));
    symlinkSync(join(base, 'kept'), join(base, 'tree/link-to-dir'));
    symlinkSync(join(base, 'kept'), join(base, 'top-link'));
    await removeTree(join(base, 'tree'));
    await removeTree(join(base, 'top-link'));
    expect(readdirSync(base)).toEqual(['kept']);
    expect(existsSync(join(base, 'kept/precious.txt'))).toBe(true);
  });

  it('removes a tree larger than the synchronous budget completely', async () => {
    const base = scratch();
    for (let d = 0; d < 12; d++) {
      mkdirSync(join(base, 'big', `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++) writeFileSync(join(base, 'big', `d${d}`, `f${f}`), 'x');
    }
    await removeTree(join(base, 'big'));
    expect(existsSync(join(base, 'big'))).toBe(false);
  });
});
