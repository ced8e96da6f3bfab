import {
  createReadStream,
  createWriteStream,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { chmod, lstat, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { readFileBySize } from './small-files.js';

/**
 * Tar streams of whole directories, streamed end to end (nothing holds a whole archive in memory): packing a host
 * directory, renaming the entries of a tar on the way through, extracting one into a host directory, and writing
 * a gzip'd stream to a file under a size cap.
 */

type Header = tarStream.Header;

function adder(pack: tarStream.Pack): (header: Partial<Header> & { name: string }, content?: Buffer) => Promise<void> {
  return (header, content) =>
    new Promise<void>((done, fail) => {
      const callback = (error?: Error | null): void => (error ? fail(error) : done());
      if (content === undefined) pack.entry(header, callback);
      else pack.entry(header, content, callback);
    });
}

/**
 * The contents of `dir` as a tar stream, names relative to it (`src/`, `src/main.py`), with their modes, times and
 * owners; symbolic links stay links (never followed); sockets and devices are left out.
 */
export function packDirectory(dir: string): Readable {
  const pack = tarStream.pack();
  const add = adder(pack);
  const walk = async (path: string, name: string): Promise<void> => {
    for (const entry of readdirSync(path).sort()) {
      const child = join(path, entry);
      const childName = name ? `${name}/${entry}` : entry;
      const info = lstatSync(child);
      const header = { name: childName, mode: info.mode & 0o7777, mtime: info.mtime, uid: info.uid, gid: info.gid };
      if (info.isDirectory()) {
        await add({ ...header, name: `${childName}/`, type: 'directory' });
        await walk(child, childName);
      } else if (info.isSymbolicLink()) {
        await add({ ...header, type: 'symlink', linkname: readlinkSync(child) });
      } else if (info.isFile()) {
        await add({ ...header, type: 'file' }, await readFileBySize(child, info.size));
      }
    }
  };
  void walk(dir, '').then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error as Error),
  );
  return pack as unknown as Readable;
}

/**
 * Passes a tar through with each entry renamed; `rename` returning undefined drops the entry. `prepend` entries
 * (directories) come first.
 */
export function renameTar(
  input: Readable,
  rename: (name: string) => string | undefined,
  prepend: Header[] = [],
): Readable {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  const add = adder(pack);
  const out = pack as unknown as Readable;
  const started = (async () => {
    for (const header of prepend) await add(header);
  })();
  extract.on('entry', (header, stream, next) => {
    const name = rename(header.name);
    if (name === undefined) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    void started.then(() => {
      const entry = pack.entry({ ...header, name }, (error) => (error ? extract.destroy(error) : next()));
      stream.pipe(entry);
    });
  });
  extract.on('finish', () => void started.then(() => pack.finalize()));
  extract.on('error', (error) => out.destroy(error));
  input.on('error', (error) => out.destroy(error));
  input.pipe(extract);
  return out;
}

/** Thrown inside the pipeline when the compressed stream passes the cap. */
class OverCap extends Error {}

/**
 * gzips `tar` into `file`, stopping as soon as the compressed size passes `maxBytes`: then the partial file is
 * removed and `undefined` returned. Otherwise the file's size.
 */
export async function writeGzipCapped(tar: Readable, file: string, maxBytes: number): Promise<number | undefined> {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) callback(new OverCap());
      else callback(undefined, chunk);
    },
  });
  mkdirSync(dirname(file), { recursive: true });
  try {
    await pipeline(tar, createGzip({ level: 6 }), counter, createWriteStream(file));
    return bytes;
  } catch (error) {
    await rm(file, { force: true });
    if (error instanceof OverCap) return undefined;
    throw error;
  }
}

/** The tar inside a gzip file, as a stream. */
export function gunzipFile(file: string): Readable {
  const out = new PassThrough();
  pipeline(createReadStream(file), createGunzip(), out).catch((error: unknown) => out.destroy(error as Error));
  return out;
}

/** A relative entry name that stays inside the extraction root, normalised; undefined for one that would not. */
function safeName(name: string): string | undefined {
  const normalized = posix.normalize(name.replace(/\/+$/, ''));
  if (normalized === '.' || normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../'))
    return undefined;
  return normalized;
}

/**
 * Whether `path`'s parent, links resolved, is `root` or under it (a link in the archive cannot redirect a write):
 * checked on the nearest ancestor that exists, before any directory is created.
 */
async function parentInside(root: string, path: string): Promise<boolean> {
  let ancestor = dirname(path);
  for (;;) {
    const real = await realpath(ancestor).catch(() => undefined);
    if (real !== undefined) return real === root || real.startsWith(root + sep);
    if (dirname(ancestor) === ancestor) return false;
    ancestor = dirname(ancestor);
  }
}

/**
 * Extracts a tar stream into `dir` (which must exist): files, directories and symbolic links, with their modes.
 * Entries that would land outside `dir` (absolute names, `..`, through a link) are left out and returned.
 */
export async function extractTar(input: Readable, dir: string): Promise<string[]> {
  const root = await realpath(dir);
  const skipped: string[] = [];
  // Directory modes are applied last, deepest first: a read-only directory must not stop its own contents.
  const directories: Array<{ path: string; mode: number }> = [];
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      place(root, header, Buffer.concat(chunks), { skipped, directories }).then(() => next(), next);
    });
  });
  await pipeline(input, extract);
  // A later entry may have put a link in a directory's place: chmod follows links, so only real directories.
  for (const { path, mode } of directories.reverse())
    if ((await lstat(path).catch(() => undefined))?.isDirectory()) await chmod(path, mode);
  return skipped;
}

interface Placed {
  skipped: string[];
  directories: Array<{ path: string; mode: number }>;
}

async function place(root: string, header: Header, data: Buffer, placed: Placed): Promise<void> {
  const { skipped } = placed;
  const name = safeName(header.name);
  if (name === undefined) {
    if (posix.normalize(header.name.replace(/\/+$/, '')) !== '.') skipped.push(header.name);
    return;
  }
  const target = join(root, ...name.split('/'));
  if (!(await parentInside(root, target))) {
    skipped.push(header.name);
    return;
  }
  mkdirSync(dirname(target), { recursive: true });
  const existing = await lstat(target).catch(() => undefined);
  if (header.type === 'directory') {
    if (existing && !existing.isDirectory()) await rm(target, { force: true });
    mkdirSync(target, { recursive: true });
    placed.directories.push({ path: target, mode: (header.mode ?? 0o755) & 0o7777 });
    return;
  }
  if (existing) await rm(target, { recursive: true, force: true });
  if (header.type === 'symlink' && header.linkname) symlinkSync(header.linkname, target);
  else if (header.type === 'file' || header.type === 'contiguous-file' || header.type === undefined) {
    await writeFile(target, data);
    await chmod(target, (header.mode ?? 0o644) & 0o7777);
  } else skipped.push(`${relative(root, target)} (${header.type})`);
}
