import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, signalGroup } from '../util/process-group.js';
import { LOCAL_ROOT_PREFIX } from './local/root-name.js';

export interface LocalCleanupReport {
  processesKilled: number;
  directoriesRemoved: number;
}

const ROOT_NAME = new RegExp(`^${LOCAL_ROOT_PREFIX}(\\d+)-`);

/** The skill-eval run that owns a trial root, from its directory name. */
function ownerOf(root: string): number | undefined {
  const match = ROOT_NAME.exec(root.split('/').at(-1) ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * Removes what a crashed local run left: processes still running in a trial root whose skill-eval process is
 * gone (found through the SKILL_EVAL_ROOT variable every trial command carries), and those trial roots.
 * Roots of live runs are left alone.
 */
export async function cleanupLocal(options: { baseDir?: string | undefined } = {}): Promise<LocalCleanupReport> {
  const baseDir = options.baseDir ?? tmpdir();
  const report: LocalCleanupReport = { processesKilled: 0, directoriesRemoved: 0 };
  let pids: string[] = [];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    // no /proc (not Linux): only directories are cleaned
  }
  for (const pid of pids) {
    let environ: string;
    try {
      environ = await readFile(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    const root = environ
      .split('\0')
      .find((v) => v.startsWith('SKILL_EVAL_ROOT='))
      ?.slice('SKILL_EVAL_ROOT='.length);
    if (!root?.startsWith(baseDir)) continue;
    const owner = ownerOf(root);
    if (owner === undefined || processAlive(owner)) continue;
    // Kill the group the command leads (and the process itself, in case it left the group).
    signalGroup(Number(pid), 'SIGKILL');
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
    report.processesKilled += 1;
  }
  let entries: string[] = [];
  try {
    entries = await readdir(baseDir);
  } catch {
    return report;
  }
  for (const entry of entries) {
    const owner = ownerOf(entry);
    if (owner === undefined || processAlive(owner)) continue;
    await rm(join(baseDir, entry), { recursive: true, force: true, maxRetries: 3 });
    report.directoriesRemoved += 1;
  }
  return report;
}
