import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardPath } from '../../src/view/path-guard.js';

function tree(): { root: string; served: string } {
  const root = mkdtempSync(join(tmpdir(), 'skill-eval-view-guard-'));
  const served = join(root, 'trial');
  mkdirSync(join(served, 'verifier'), { recursive: true });
  writeFileSync(join(served, 'verifier', 'out.txt'), 'ok');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  symlinkSync(join(root, 'secret.txt'), join(served, 'escape.txt'));
  symlinkSync(root, join(served, 'up'));
  symlinkSync(join(served, 'verifier', 'out.txt'), join(served, 'inner.txt'));
  return { root, served };
}

describe('guardPath', () => {
  const { root, served } = tree();

  it('serves a file inside the directory', () => {
    expect(guardPath(served, 'verifier/out.txt')).toEqual({ ok: true, path: join(served, 'verifier', 'out.txt') });
    expect(guardPath(served, './verifier//out.txt').ok).toBe(true);
    // A link that stays inside is fine.
    expect(guardPath(served, 'inner.txt').ok).toBe(true);
  });

  it.each([
    ['../secret.txt', '".." in path'],
    ['verifier/../../secret.txt', '".." in path'],
    ['%2e%2e/secret.txt', 'encoded characters in path'],
    ['..%2fsecret.txt', 'encoded characters in path'],
    ['%252e%252e/secret.txt', 'encoded characters in path'],
    [`${root}/secret.txt`, 'absolute path'],
    ['..\\secret.txt', 'backslash in path'],
    ['verifier/out.txt\0', 'NUL in path'],
  ])('refuses %s', (requested, reason) => {
    expect(guardPath(served, requested)).toEqual({ ok: false, reason });
  });

  it('refuses symbolic links that lead out of the directory', () => {
    expect(guardPath(served, 'escape.txt')).toEqual({ ok: false, reason: 'outside the served directory' });
    expect(guardPath(served, 'up/secret.txt')).toEqual({ ok: false, reason: 'outside the served directory' });
  });

  it('says when there is no such file', () => {
    expect(guardPath(served, 'missing.txt')).toEqual({ ok: false, reason: 'no such file' });
  });
});
