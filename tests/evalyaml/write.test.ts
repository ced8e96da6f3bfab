import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadEvalYaml } from '../../src/evalyaml/load.js';
import { convertIntoCache, writeTaskDirs } from '../../src/evalyaml/write.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { tempDir } from '../task/helpers.js';
import { SUPERLINT } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function scratch(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  return dir.path;
}

describe('convertIntoCache', () => {
  it('is content-addressed: the same eval.yaml gives the same directory and task checksum, a change a new one', async () => {
    const cache = await scratch();
    const { converted } = await loadEvalYaml(join(SUPERLINT, 'eval.yaml'), { cwd: SUPERLINT });
    const [first] = await convertIntoCache(converted, cache);
    const [again] = await convertIntoCache(converted, cache);
    expect(again).toBe(first);
    expect(first).toMatch(/\/[0-9a-f]{16}\/fix-linting-errors$/);
    expect((await loadTaskOrThrow(first!)).checksum).toBe((await loadTaskOrThrow(again!)).checksum);
    const changed = converted.map((c) => ({ ...c, files: c.files.map((f) => ({ ...f })) }));
    changed[0]!.files[0]!.data = Buffer.from('changed');
    const [other] = await convertIntoCache(changed, cache);
    expect(other).not.toBe(first);
    // No temporary folder is left behind.
    expect((await readdir(cache)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  });
});

describe('writeTaskDirs', () => {
  it('refuses to overwrite a task directory without force, and replaces it whole with force', async () => {
    const out = await scratch();
    const { converted } = await loadEvalYaml(join(SUPERLINT, 'eval.yaml'), { cwd: SUPERLINT });
    const [dir] = await writeTaskDirs(converted, out, { force: false });
    await writeFile(join(dir!, 'stale.txt'), 'from an older conversion');
    await expect(writeTaskDirs(converted, out, { force: false })).rejects.toBeInstanceOf(UsageError);
    await writeTaskDirs(converted, out, { force: true });
    await expect(stat(join(dir!, 'stale.txt'))).rejects.toThrow();
    expect((await stat(join(dir!, 'environment/files/bin/superlint'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir!, 'environment/files/fixtures/app.js'))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(dir!, 'solution/solve.sh'), 'utf8')).toBe(
      await readFile(join(SUPERLINT, 'solve.sh'), 'utf8'),
    );
  });
});
