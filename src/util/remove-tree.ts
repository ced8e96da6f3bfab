import { opendirSync, rmdirSync, unlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Entries removed synchronously before the rest is handed to the async `rm`. */
const SYNC_BUDGET = 256;

/**
 * `rm -rf path`. A trial's directories are usually a handful of entries: those go synchronously, because on a
 * busy machine each async fs call costs about twice the CPU of the sync one (thread-pool handoff; see
 * bench/jobs/throughput.ts). A big tree (an agent's node_modules) goes to the async `rm` after the first
 * `SYNC_BUDGET` entries, so the event loop never blocks for long. Any other error also falls back to `rm`,
 * which then reports it.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    if (removeWithin(path, { left: SYNC_BUDGET })) return;
  } catch {
    // e.g. EACCES, EBUSY: the async rm retries and reports
  }
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/** Removes `path` while the budget lasts; false when it ran out (what is left is still a valid tree). */
function removeWithin(path: string, budget: { left: number }): boolean {
  // rmdir first: an empty directory (common here) goes in one call, and it never follows a symlink.
  try {
    rmdirSync(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTDIR') {
      unlinkSync(path);
      return true;
    }
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  // Read lazily: a directory with 100k entries costs no more than the budget here.
  const dir = opendirSync(path);
  try {
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
      if (--budget.left < 0) return false;
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        if (!removeWithin(child, budget)) return false;
      } else {
        unlinkSync(child);
      }
    }
  } finally {
    dir.closeSync();
  }
  rmdirSync(path);
  return true;
}
