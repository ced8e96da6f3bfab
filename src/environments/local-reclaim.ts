import { cleanupLocal } from './local-cleanup.js';
import type { ReclaimReport } from './types.js';

/**
 * The local provider's `reclaimJob`: kills the processes and removes the trial roots that dead skill-eval runs
 * left. A trial root names its owner's pid, not its job, so this reclaims every dead run's leftovers (none of
 * which anything alive uses); the roots and processes of live runs stay.
 */
export async function reclaimLocal(options: { baseDir?: string | undefined } = {}): Promise<ReclaimReport> {
  const report = await cleanupLocal(options);
  return { removed: report.processesKilled + report.directoriesRemoved, notes: [] };
}
