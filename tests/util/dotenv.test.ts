import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { mergeDotEnv, readDotEnv } from '../../src/util/dotenv.js';
import { tempDir } from '../helpers/trials.js';

describe('.env files', () => {
  it('reads KEY=VALUE lines with comments, quotes, export and multi-line values', async () => {
    const dir = await tempDir('dotenv');
    await writeFile(
      join(dir, '.env'),
      [
        '# a comment',
        'PLAIN=value',
        'SPACED = padded  ',
        'DOUBLE="two words" # trailing comment',
        "SINGLE='#not a comment'",
        'export EXPORTED=yes',
        'MULTI="line one',
        'line two"',
        'EMPTY=',
        '',
      ].join('\n'),
    );
    const file = await readDotEnv(dir);
    expect(file?.path).toBe(join(dir, '.env'));
    expect(file?.vars).toEqual({
      PLAIN: 'value',
      SPACED: 'padded',
      DOUBLE: 'two words',
      SINGLE: '#not a comment',
      EXPORTED: 'yes',
      MULTI: 'line one\nline two',
      EMPTY: '',
    });
  });

  it('no .env is undefined; a .env that is not a readable file is a UsageError naming it', async () => {
    const dir = await tempDir('dotenv-none');
    expect(await readDotEnv(dir)).toBeUndefined();
    await mkdir(join(dir, '.env'));
    const error = await readDotEnv(dir, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('.env: cannot read the .env file (EISDIR)');
  });

  it('later files win over earlier ones; the shell wins over every file', () => {
    const merged = mergeDotEnv(
      [
        { path: '/a/.env', vars: { A: 'from-a', B: 'from-a', C: 'from-a' } },
        { path: '/b/.env', vars: { B: 'from-b', C: 'from-b' } },
      ],
      { C: 'from-shell', PATH: '/bin', UNSET: undefined },
    );
    expect(merged.env).toEqual({ A: 'from-a', B: 'from-b', C: 'from-shell', PATH: '/bin' });
    expect(merged.fromFiles).toEqual(['A', 'B', 'C']);
  });
});
