import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A sibling temp name: same directory (so the rename is atomic), unique per process and call. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes a file so that readers (and a kill -9) only ever see the old or the new content: temp file, fsync,
 * rename. The fsync makes the new content survive a power loss too.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
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

export async function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(data, null, 2)}\n`);
}

/**
 * The same all-or-nothing file for a kill -9, without the fsync, synchronously, into an existing directory:
 * for the small per-trial files (config, result, job summary) written hundreds of times a minute. Only an OS
 * crash can leave one empty, and every reader treats that as absent (resume re-runs the trial; the summary is
 * derived and rewritten). Synchronous because an async call costs about twice the CPU of a sync one on a busy
 * machine (thread-pool handoff, bench/jobs/throughput.ts), and these writes are a few kB.
 */
export function writeFileAtomicSync(path: string, content: string | Uint8Array): void {
  const temp = tempPathFor(path);
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export function writeJsonAtomicSync(path: string, data: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
