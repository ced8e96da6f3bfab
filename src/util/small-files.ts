import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * Files up to this size are read and written synchronously: on a busy machine an async fs call costs about
 * twice the CPU of the sync one (thread-pool handoff; bench/jobs/throughput.ts), and a trial's files (scripts,
 * tests, logs, results) are mostly a few kB. Bigger ones go through fs/promises so the event loop never blocks
 * for long.
 */
export const SYNC_FILE_BYTES = 256 * 1024;

/** A file's bytes; `size` (from a stat the caller already made) picks sync or async reading. */
export async function readFileBySize(path: string, size: number): Promise<Buffer> {
  return size <= SYNC_FILE_BYTES ? readFileSync(path) : readFile(path);
}
