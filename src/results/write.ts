import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /**
   * fsync before the rename (default): the new content also survives a power loss. Without it a kill -9 still
   * sees the old or the new file (rename is atomic); only an OS crash can leave it empty — fine for files a
   * reader re-derives or re-runs when torn (trial results: resume re-runs the trial).
   */
  durable?: boolean | undefined;
}

/** Writes a file so that readers (and a kill -9) only ever see the old or the new content: temp file, fsync, rename. */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    if (options.durable !== false) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeJsonAtomic(path: string, data: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(data, null, 2)}\n`, options);
}
