import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, signalGroup } from '../util/process-group.js';
import { LOCAL_ROOT_PREFIX, rootJob } from './local/root-name.js';

/** A trial directory or process `cleanup` left alone: the skill-eval run that owns it still runs. */
export interface KeptLocalResource {
  kind: 'trial directory' | 'process';
  /** The trial directory, or the process's pid. */
  name: string;
  /** The skill-eval process that owns it. */
  owner: number;
}

export interface LocalCleanupReport {
  processesKilled: number;
  directoriesRemoved: number;
  kept: KeptLocalResource[];
}

const ROOT_NAME = new RegExp(`^${LOCAL_ROOT_PREFIX}(\\d+)-`);

/** The skill-eval run that owns a trial root, from its directory name. */
function ownerOf(root: string): number | undefined {
  const match = ROOT_NAME.exec(root.split('/').at(-1) ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Every process running in a trial root under `baseDir`, found through the SKILL_EVAL_ROOT variable it carries. */
async function trialProcesses(baseDir: string): Promise<Array<{ pid: number; root: string }>> {
  let pids: string[] = [];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return []; // no /proc (not Linux): only directories are cleaned
  }
  const found: Array<{ pid: number; root: string }> = [];
  for (const pid of pids) {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    const root = environ
      .split('\0')
      .find((v) => v.startsWith('SKILL_EVAL_ROOT='))
      ?.slice('SKILL_EVAL_ROOT='.length);
    if (root?.startsWith(baseDir)) found.push({ pid: Number(pid), root });
  }
  return found;
}

function kill(pid: number): void {
  // The group the command leads, and the process itself in case it left the group.
  signalGroup(pid, 'SIGKILL');
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export interface LocalCleanupOptions {
  baseDir?: string | undefined;
  /** Also what live runs hold (it stops their trials). */
  force?: boolean | undefined;
  /** Only the trial roots (and their processes) of this job. */
  jobId?: string | undefined;
}

/**
 * Removes what a crashed local run left: processes still running in a trial root whose skill-eval process is
 * gone, and those trial roots. What a live run holds is kept and listed, unless `force` (which stops that run's
 * trials). Local trial roots are on this host by construction, so the owner's pid is the whole check.
 */
export async function cleanupLocal(options: LocalCleanupOptions = {}): Promise<LocalCleanupReport> {
  const baseDir = options.baseDir ?? tmpdir();
  const report: LocalCleanupReport = { processesKilled: 0, directoriesRemoved: 0, kept: [] };
  const ownerLives = (owner: number): boolean => !options.force && processAlive(owner);
  // With a job, another job's roots (and those naming none) are not ours to judge, even with --force.
  const inScope = (root: string): boolean => options.jobId === undefined || rootJob(root) === options.jobId;
  for (const { pid, root } of await trialProcesses(baseDir)) {
    const owner = ownerOf(root);
    if (owner === undefined || !inScope(root)) continue;
    if (ownerLives(owner)) {
      report.kept.push({ kind: 'process', name: String(pid), owner });
      continue;
    }
    kill(pid);
    report.processesKilled += 1;
  }
  const entries = await readdir(baseDir).catch(() => [] as string[]);
  for (const entry of entries) {
    const owner = ownerOf(entry);
    if (owner === undefined || !inScope(join(baseDir, entry))) continue;
    if (ownerLives(owner)) {
      report.kept.push({ kind: 'trial directory', name: join(baseDir, entry), owner });
      continue;
    }
    await rm(join(baseDir, entry), { recursive: true, force: true, maxRetries: 3 });
    report.directoriesRemoved += 1;
  }
  return report;
}
