import { posix } from 'node:path';
import type Docker from 'dockerode';
import { errorMessage, InfraError } from '../../errors.js';
import { gunzipFile, renameTar, writeGzipCapped } from '../../util/tar-gz.js';
import type { WorkdirArchive } from '../types.js';
import { overCapReason } from '../workspace-archive.js';
import { getArchive, put } from './archive.js';
import { runHelper } from './transport.js';

/**
 * The workdir of a container as a gzip'd tar with names relative to it: one archive call to the engine (its entries
 * are named `<basename>/…`, renamed on the way through), compressed and capped on the host.
 */
export async function archiveContainerWorkdir(
  container: Docker.Container,
  workdir: string,
  hostFile: string,
  maxBytes: number,
): Promise<WorkdirArchive> {
  const archive = await getArchive(container, workdir);
  if (!archive) return { written: false, reason: `the workdir ${workdir} does not exist` };
  const top = posix.basename(posix.normalize(workdir));
  const relative = renameTar(archive, (name) => {
    const rest = name.startsWith(`${top}/`) ? name.slice(top.length + 1) : undefined;
    return rest ? rest : undefined;
  });
  try {
    const bytes = await writeGzipCapped(relative, hostFile, maxBytes);
    return bytes === undefined ? { written: false, reason: overCapReason(maxBytes) } : { written: true, bytes };
  } catch (error) {
    throw new InfraError(`archiving ${workdir} failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** Empties the workdir (one helper exec) and puts the archive's entries in it (one archive call). */
export async function restoreContainerWorkdir(
  container: Docker.Container,
  workdir: string,
  hostFile: string,
): Promise<void> {
  const dir = posix.normalize(workdir).replace(/\/+$/, '');
  try {
    await runHelper(container, 'find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +', [dir]);
  } catch (error) {
    throw new InfraError(`emptying ${dir} in the container failed: ${errorMessage(error)}`, { cause: error });
  }
  // Names relative to `/`, as every upload (archive.ts): the engine refuses a destination that does not exist.
  const prefix = dir.replace(/^\/+/, '');
  const tar = renameTar(gunzipFile(hostFile), (name) => (prefix ? `${prefix}/${name}` : name));
  await put(container, tar, `restore ${hostFile} → ${dir}`);
}
