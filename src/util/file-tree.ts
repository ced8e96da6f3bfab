import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** One file under a directory, as hashed into a checksum. */
export interface FileEntry {
  /** `/`-separated, relative to the listed root. */
  relativePath: string;
  absolutePath: string;
  kind: 'file' | 'symlink';
  /** Git-style mode: `755` when any execute bit is set, `644` otherwise, `120000` for a symlink. */
  mode: string;
  /** Bytes (of the link text for a symlink). */
  size: number;
}

/** Every file below `root` (recursively; symlinks are not followed), sorted by relative path. */
export async function listFiles(root: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const absolutePath = join(dir, entry.name);
      const relativePath = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(absolutePath, relativePath);
      } else if (entry.isSymbolicLink()) {
        const target = await readlink(absolutePath);
        out.push({ relativePath, absolutePath, kind: 'symlink', mode: '120000', size: Buffer.byteLength(target) });
      } else if (entry.isFile()) {
        const stats = await lstat(absolutePath);
        // Only the execute bit matters: umask differences between machines must not change a checksum.
        out.push({
          relativePath,
          absolutePath,
          kind: 'file',
          mode: (stats.mode & 0o111) !== 0 ? '755' : '644',
          size: stats.size,
        });
      }
      // Sockets, FIFOs and devices are not task content.
    }
  }
  await walk(root, '');
  return out.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

/**
 * sha256 over (relative path, [mode,] content) of each entry, in the given order. Each part is length-prefixed
 * so no two different trees hash the same.
 */
export async function hashEntries(entries: readonly FileEntry[], options: { includeMode: boolean }): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of entries) {
    const header = options.includeMode
      ? `${entry.relativePath}\0${entry.mode}\0${entry.size}\0`
      : `${entry.relativePath}\0${entry.size}\0`;
    hash.update(`${Buffer.byteLength(header)}:${header}`);
    if (entry.kind === 'symlink') hash.update(await readlink(entry.absolutePath));
    else await streamInto(hash, entry.absolutePath);
  }
  return hash.digest('hex');
}

/** Streams a file into a hash, so large task data never sits in memory whole. */
function streamInto(hash: Hash, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(path);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve());
  });
}

/** sha256 over sorted (relative path, mode, content) of every file of a directory: a task's checksum. */
export async function directoryChecksum(root: string): Promise<string> {
  return hashEntries(await listFiles(root), { includeMode: true });
}
