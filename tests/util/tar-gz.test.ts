import { chmod, lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { extractTar, gunzipFile, packDirectory, writeGzipCapped } from '../../src/util/tar-gz.js';
import { tempDir } from '../helpers/trials.js';

async function sampleTree(): Promise<string> {
  const dir = await tempDir('tar-gz-src');
  await mkdir(join(dir, 'src', 'lib'), { recursive: true });
  await writeFile(join(dir, 'src', 'lib', 'a.sh'), 'echo a\n');
  await chmod(join(dir, 'src', 'lib', 'a.sh'), 0o755);
  await writeFile(join(dir, '.hidden'), 'h');
  await symlink('src/lib/a.sh', join(dir, 'link'));
  await mkdir(join(dir, 'locked'));
  await writeFile(join(dir, 'locked', 'inside.txt'), 'in');
  await chmod(join(dir, 'locked'), 0o555);
  return dir;
}

/** A tar holding the given entries, as a stream. */
async function tarOf(entries: Array<{ name: string; content?: string; type?: 'file' | 'symlink'; linkname?: string }>) {
  const pack = tarStream.pack();
  for (const entry of entries)
    await new Promise<void>((done, fail) =>
      entry.type === 'symlink'
        ? pack.entry({ name: entry.name, type: 'symlink', linkname: entry.linkname }, (e) => (e ? fail(e) : done()))
        : pack.entry({ name: entry.name }, entry.content ?? '', (e) => (e ? fail(e) : done())),
    );
  pack.finalize();
  return pack as unknown as Readable;
}

describe('tar-gz', () => {
  it('packs a directory and extracts it back: contents, modes, dot files, links, read-only directories', async () => {
    const source = await sampleTree();
    const file = join(await tempDir('tar-gz-out'), 'w.tar.gz');
    const bytes = await writeGzipCapped(packDirectory(source), file, 1024 * 1024);
    expect(bytes).toBe((await readFile(file)).length);
    const target = await tempDir('tar-gz-target');
    expect(await extractTar(gunzipFile(file), target)).toEqual([]);
    expect(await readFile(join(target, 'src', 'lib', 'a.sh'), 'utf8')).toBe('echo a\n');
    expect((await lstat(join(target, 'src', 'lib', 'a.sh'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(target, '.hidden'), 'utf8')).toBe('h');
    expect(await readlink(join(target, 'link'))).toBe('src/lib/a.sh');
    expect(await readFile(join(target, 'locked', 'inside.txt'), 'utf8')).toBe('in');
    expect((await lstat(join(target, 'locked'))).mode & 0o777).toBe(0o555);
    await chmod(join(target, 'locked'), 0o755);
    await chmod(join(source, 'locked'), 0o755);
  });

  it('writes nothing past the cap', async () => {
    const source = await tempDir('tar-gz-big');
    await writeFile(
      join(source, 'noise'),
      Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(Math.random() * 256))),
    );
    const file = join(await tempDir('tar-gz-cap'), 'w.tar.gz');
    expect(await writeGzipCapped(packDirectory(source), file, 16 * 1024)).toBeUndefined();
    await expect(lstat(file)).rejects.toThrow(/ENOENT/);
  });

  it('leaves out entries that would land outside the target: absolute names, .., through a link', async () => {
    const outside = await tempDir('tar-gz-outside');
    const target = await tempDir('tar-gz-guarded');
    const skipped = await extractTar(
      await tarOf([
        { name: '../escape.txt', content: 'x' },
        { name: 'ok/../../escape2.txt', content: 'x' },
        { name: 'out', type: 'symlink', linkname: outside },
        { name: 'out/through-link.txt', content: 'x' },
        { name: 'out/new/deeper.txt', content: 'x' },
        { name: 'fine.txt', content: 'fine' },
      ]),
      target,
    );
    expect(skipped).toEqual(['../escape.txt', 'ok/../../escape2.txt', 'out/through-link.txt', 'out/new/deeper.txt']);
    expect(await readFile(join(target, 'fine.txt'), 'utf8')).toBe('fine');
    await expect(lstat(join(outside, 'through-link.txt'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(join(outside, 'new'))).rejects.toThrow(/ENOENT/);
  });
});
