import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Trial roots are `<tmp>/skill-eval-<owner pid>-<trial>-…`: cleanup and reclaim find their owner by the name. */
export const LOCAL_ROOT_PREFIX = 'skill-eval-';

/**
 * A file in each trial root naming its job: `cleanup --job` then touches that job's roots only (a root's name
 * holds the owner's pid, not the job). Outside the workdir, so the agent's own files never include it.
 */
export const LOCAL_ROOT_JOB_FILE = '.skill-eval-job';

export function writeRootJob(root: string, jobId: string): void {
  writeFileSync(join(root, LOCAL_ROOT_JOB_FILE), `${jobId}\n`);
}

/** The job a trial root belongs to; undefined when it names none (made by an older version, or half-made). */
export function rootJob(root: string): string | undefined {
  try {
    return readFileSync(join(root, LOCAL_ROOT_JOB_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
