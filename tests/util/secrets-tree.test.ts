import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { unzipSync, zipSync } from 'fflate';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/util/secrets.js';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { tempDir } from '../helpers/trials.js';

const SECRET = 'sk-tree-Zq9x7Kq2Lm';
const OTHER = 'ghp_second_secret_42';
const redactor = new Redactor([SECRET, OTHER]);

type Entry = { name: string; data?: string | Buffer; type?: 'file' | 'symlink' | 'directory'; linkname?: string };

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries)
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (e.type === 'symlink' || e.type === 'directory')
        pack.entry({ name: e.name, type: e.type, linkname: e.linkname }, done);
      else pack.entry({ name: e.name, mode: 0o640 }, Buffer.from(e.data ?? ''), done);
    });
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function readTar(data: Buffer): Promise<Array<{ name: string; type: string; linkname?: string; data: string }>> {
  const members: Array<{ name: string; type: string; linkname?: string; data: string }> = [];
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const member = { name: header.name, type: header.type ?? 'file', data: Buffer.concat(chunks).toString() };
        members.push(header.linkname ? { ...member, linkname: header.linkname } : member);
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([data]).pipe(extract);
  await done;
  return members;
}

/** A gzip stream whose header names the original file (FNAME), as `gzip name` writes it. */
function gzipWithName(name: string, content: string): Buffer {
  const body = gzipSync(content);
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 0x03]);
  return Buffer.concat([header, Buffer.from(`${name}\0`), body.subarray(10)]);
}

describe('Redactor.redactTree', () => {
  it('rewrites a text file in place, keeping every other byte and its mode', async () => {
    const dir = await tempDir('tree-text');
    const bytes = Buffer.concat([
      Buffer.from([0xc3, 0x28, 0xff, 0x0a]),
      Buffer.from(`k=${SECRET}\r\n`),
      Buffer.from([0xe2]),
    ]);
    await writeFile(join(dir, 'log.txt'), bytes, { mode: 0o600 });
    const b64 = Buffer.from(`x${OTHER}`).toString('base64');
    await writeFile(join(dir, 'wrapped.txt'), `${b64.slice(0, 7)}\n${b64.slice(7)}\n`);
    expect(await redactor.redactTree(dir)).toBe(2);
    expect(await readFile(join(dir, 'log.txt'))).toEqual(
      Buffer.concat([Buffer.from([0xc3, 0x28, 0xff, 0x0a]), Buffer.from('k=[REDACTED]\r\n'), Buffer.from([0xe2])]),
    );
    expect((await lstat(join(dir, 'log.txt'))).mode & 0o777).toBe(0o600);
    expect(await scanForSecrets(dir, [SECRET, OTHER])).toEqual([]);
  });

  it('renames files and directories named after a secret (never over another entry) and redacts link targets', async () => {
    const dir = await tempDir('tree-names');
    const outside = await tempDir('tree-outside');
    await writeFile(join(outside, 'kept.txt'), SECRET);
    await mkdir(join(dir, `d-${SECRET}`, `sub-${OTHER}`), { recursive: true });
    await writeFile(join(dir, `d-${SECRET}`, `sub-${OTHER}`, `f-${SECRET}.txt`), 'plain');
    await writeFile(join(dir, 'd-[REDACTED]'), 'already here');
    await symlink(`../${SECRET}/x`, join(dir, 'rel-link'));
    await symlink(join(outside, 'kept.txt'), join(dir, `abs-${Buffer.from(SECRET).toString('hex')}`));
    await redactor.redactTree(dir);
    expect((await readdir(dir)).sort()).toEqual(['abs-[REDACTED]', 'd-[REDACTED]', 'd-[REDACTED]-2', 'rel-link']);
    expect(await readFile(join(dir, 'd-[REDACTED]'), 'utf8')).toBe('already here');
    expect(await readFile(join(dir, 'd-[REDACTED]-2', 'sub-[REDACTED]', 'f-[REDACTED].txt'), 'utf8')).toBe('plain');
    expect(await readlink(join(dir, 'rel-link'))).toBe('../[REDACTED]/x');
    // Links are not followed: the file outside the tree is untouched.
    expect(await readlink(join(dir, 'abs-[REDACTED]'))).toBe(join(outside, 'kept.txt'));
    expect(await readFile(join(outside, 'kept.txt'), 'utf8')).toBe(SECRET);
  });

  it('redacts inside .gz files (also a secret in the gzip header) and keeps them valid gzip', async () => {
    const dir = await tempDir('tree-gz');
    await writeFile(join(dir, 'a.log.gz'), gzipSync(`line 1\nkey ${SECRET}\nline 3\n`));
    await writeFile(join(dir, 'named.gz'), gzipWithName(`${OTHER}.txt`, 'harmless\n'));
    const clean = gzipSync('nothing to see\n');
    await writeFile(join(dir, 'clean.gz'), clean);
    await redactor.redactTree(dir);
    expect(gunzipSync(await readFile(join(dir, 'a.log.gz'))).toString()).toBe('line 1\nkey [REDACTED]\nline 3\n');
    expect(gunzipSync(await readFile(join(dir, 'named.gz'))).toString()).toBe('harmless\n');
    expect(await readFile(join(dir, 'clean.gz'))).toEqual(clean);
    expect(await scanForSecrets(dir, [SECRET, OTHER])).toEqual([]);
  });

  it('re-packs a .tar and a .tar.gz with redacted members, names and link targets: valid, other members intact', async () => {
    const dir = await tempDir('tree-tar');
    const entries: Entry[] = [
      { name: 'keep.txt', data: 'keep me exactly\n' },
      { name: 'logs/', type: 'directory' },
      { name: 'logs/run.log', data: `token=${OTHER} and more text after it\n` },
      { name: `logs/${SECRET}.txt`, data: 'named after the secret' },
      { name: 'link', type: 'symlink', linkname: `/home/${SECRET}` },
      { name: 'nested.gz', data: gzipSync(SECRET) },
    ];
    const tar = await makeTar(entries);
    await writeFile(join(dir, 'bundle.tar'), tar);
    await writeFile(join(dir, 'bundle.tgz'), gzipSync(tar));
    await redactor.redactTree(dir);
    for (const file of ['bundle.tar', 'bundle.tgz']) {
      const data = await readFile(join(dir, file));
      const members = await readTar(file.endsWith('.tgz') ? gunzipSync(data) : data);
      expect(members.map((m) => m.name)).toEqual([
        'keep.txt',
        'logs/',
        'logs/run.log',
        'logs/[REDACTED].txt',
        'link',
        'nested.gz',
      ]);
      expect(members[0]!.data).toBe('keep me exactly\n');
      expect(members[2]!.data).toBe('token=[REDACTED] and more text after it\n');
      expect(members[4]!.linkname).toBe('/home/[REDACTED]');
    }
    expect(await scanForSecrets(dir, [SECRET, OTHER])).toEqual([]);
  });

  it('replaces a zip, a binary and a tar holding a binary secret by notes that say what and why', async () => {
    const dir = await tempDir('tree-notes');
    const cleanZip = Buffer.from(zipSync({ 'a.txt': Buffer.from('fine') }));
    await writeFile(join(dir, 'clean.zip'), cleanZip);
    await writeFile(join(dir, `${SECRET}.zip`), Buffer.from(zipSync({ 'in/key.txt': Buffer.from(`k ${OTHER}`) })));
    await writeFile(
      join(dir, 'image.bin'),
      Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(SECRET), Buffer.from([0])]),
    );
    const cleanBinary = Buffer.from([0, 1, 2, 3, 255]);
    await writeFile(join(dir, 'clean.bin'), cleanBinary);
    await writeFile(join(dir, 'db.tar'), await makeTar([{ name: 'db.sqlite', data: Buffer.from(`\0${SECRET}\0`) }]));
    await redactor.redactTree(dir);
    expect((await readdir(dir)).sort()).toEqual([
      '[REDACTED].zip.redacted.txt',
      'clean.bin',
      'clean.zip',
      'db.tar.redacted.txt',
      'image.bin.redacted.txt',
    ]);
    expect(await readFile(join(dir, 'clean.zip'))).toEqual(cleanZip);
    expect(unzipSync(await readFile(join(dir, 'clean.zip')))['a.txt']).toBeDefined();
    expect(await readFile(join(dir, 'clean.bin'))).toEqual(cleanBinary);
    const zipNote = await readFile(join(dir, '[REDACTED].zip.redacted.txt'), 'utf8');
    expect(zipNote).toMatch(
      /removed "\[REDACTED\]\.zip" \(\d+ bytes\).*a zip archive holding a secret in in\/key\.txt/,
    );
    expect(await readFile(join(dir, 'image.bin.redacted.txt'), 'utf8')).toMatch(
      /a binary file: replacing the secret would change its length/,
    );
    expect(await readFile(join(dir, 'db.tar.redacted.txt'), 'utf8')).toMatch(
      /a tar archive whose db\.sqlite is a binary file/,
    );
    expect(await scanForSecrets(dir, [SECRET, OTHER])).toEqual([]);
  });
});
