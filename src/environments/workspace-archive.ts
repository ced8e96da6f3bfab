import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../util/remove-tree.js';
import { extractTar, gunzipFile, packDirectory, writeGzipCapped } from '../util/tar-gz.js';
import type { WorkdirArchive, Workspace } from './types.js';

/** The archive of a trial's final workdir, in the trial directory (docs/results.md). */
export const WORKSPACE_ARCHIVE = 'workspace.tar.gz';

/** Why a workdir was not archived because of its size, in the words the result and `regrade` show. */
export function overCapReason(maxBytes: number): string {
  return `the workspace archive would exceed the cap of ${formatBytes(maxBytes)} (eval --workspace-archive-max-mb)`;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MB`
    : `${bytes} bytes`;
}

/** gzip'd tar of a host directory's contents into `hostFile`, under the cap. */
export async function archiveHostDirectory(dir: string, hostFile: string, maxBytes: number): Promise<WorkdirArchive> {
  const bytes = await writeGzipCapped(packDirectory(dir), hostFile, maxBytes);
  return bytes === undefined ? { written: false, reason: overCapReason(maxBytes) } : { written: true, bytes };
}

/**
 * The workspace's workdir, as it is now, into `hostFile` (gzip'd tar, names relative to the workdir), unless it
 * passes `maxBytes` compressed. The workspace's own way when it has one; else a download and a pack on the host.
 */
export async function archiveWorkdir(ws: Workspace, hostFile: string, maxBytes: number): Promise<WorkdirArchive> {
  if (ws.archiveWorkdir) return ws.archiveWorkdir(hostFile, maxBytes);
  const staging = mkdtempSync(join(tmpdir(), 'skill-eval-archive-'));
  try {
    const copy = join(staging, 'workdir');
    if (!(await ws.download(ws.paths.workdir, copy))) return { written: false, reason: 'the workdir does not exist' };
    return await archiveHostDirectory(copy, hostFile, maxBytes);
  } finally {
    await removeTree(staging);
  }
}

/**
 * Replaces the workdir's contents with the archive's (what `regrade` starts from). The workspace's own way when
 * it has one; else extracted on the host and uploaded.
 */
export async function restoreWorkdir(ws: Workspace, hostFile: string): Promise<void> {
  if (ws.restoreWorkdir) return ws.restoreWorkdir(hostFile);
  const staging = mkdtempSync(join(tmpdir(), 'skill-eval-restore-'));
  try {
    await extractTar(gunzipFile(hostFile), staging);
    await ws.remove(ws.paths.workdir);
    await ws.upload(staging, ws.paths.workdir);
  } finally {
    await removeTree(staging);
  }
}
