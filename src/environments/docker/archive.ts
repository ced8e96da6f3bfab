import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import { errorMessage, InfraError } from '../../errors.js';
import { readFileBySize } from '../../util/small-files.js';
import { collectLogs } from './collect.js';
import { entryAdder } from './context.js';
import { httpStatus } from './engine.js';

/**
 * File transfer with the engine's archive API (tar in, tar out): no exec, no `docker cp` process. Archives are
 * extracted at `/` with full paths, because the engine creates missing parent directories for tar entries but
 * refuses a destination directory that does not exist.
 */

/** `/a/b/` → `a/b` (tar names are relative to the extraction root `/`). */
function relativeToRoot(envPath: string): string {
  const normalized = posix.normalize(envPath);
  if (!normalized.startsWith('/'))
    throw new InfraError(`environment paths must be absolute, got ${envPath}`, { retryable: false });
  return normalized.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Something to place in the container: a host file or directory (its contents), or bytes. */
export type Upload =
  | { kind: 'path'; hostPath: string; envPath: string }
  | { kind: 'bytes'; envPath: string; content: string | Uint8Array; mode?: number | undefined };

/** Refuses an upload onto `/` or from a host path that does not exist, before any engine call. */
async function checkUpload(upload: Upload): Promise<void> {
  if (relativeToRoot(upload.envPath) === '')
    throw new InfraError('refusing to upload onto / of the container', { retryable: false });
  if (upload.kind === 'path') {
    try {
      await lstat(upload.hostPath);
    } catch (error) {
      throw new InfraError(`cannot upload ${upload.hostPath}: ${errorMessage(error)}`, {
        cause: error,
        retryable: false,
      });
    }
  }
}

/**
 * One tar of several uploads, with names relative to `/` (extract at `/`): files owned by root with their host
 * modes, directories' contents under their target, symbolic links as links.
 */
export function packUploads(uploads: Upload[]): Readable {
  const pack = tarStream.pack();
  const add = entryAdder(pack);
  const addPath = async (hostPath: string, name: string): Promise<void> => {
    const info = await lstat(hostPath);
    const header = { name, mode: info.mode & 0o7777, mtime: info.mtime, uid: 0, gid: 0 };
    if (info.isDirectory()) {
      await add({ ...header, name: `${name}/`, type: 'directory' });
      for (const entry of (await readdir(hostPath)).sort()) await addPath(join(hostPath, entry), `${name}/${entry}`);
    } else if (info.isSymbolicLink()) {
      await add({ ...header, type: 'symlink', linkname: await readlink(hostPath) });
    } else if (info.isFile()) {
      await add({ ...header, type: 'file' }, await readFileBySize(hostPath, info.size));
    }
  };
  void (async () => {
    try {
      for (const upload of uploads) {
        const name = relativeToRoot(upload.envPath);
        if (upload.kind === 'path') await addPath(upload.hostPath, name);
        else
          await add(
            { name, type: 'file', mode: upload.mode ?? 0o644, mtime: new Date(), uid: 0, gid: 0 },
            Buffer.from(upload.content),
          );
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** Places an upload with the engine's archive API (what works in any image, tar or not). */
export async function putUpload(container: Docker.Container, upload: Upload): Promise<void> {
  await checkUpload(upload);
  const what = upload.kind === 'path' ? `upload ${upload.hostPath} → ${upload.envPath}` : `write ${upload.envPath}`;
  await put(container, packUploads([upload]), what);
}

export async function put(container: Docker.Container, archive: Readable, what: string): Promise<void> {
  try {
    await container.putArchive(archive, { path: '/' });
  } catch (error) {
    throw new InfraError(`${what} failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** The engine's tar of `envPath` (entries named after its base name); undefined when it does not exist. */
export async function getArchive(container: Docker.Container, envPath: string): Promise<Readable | undefined> {
  try {
    return (await container.getArchive({ path: envPath })) as unknown as Readable;
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw new InfraError(`reading ${envPath} from the container failed: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Copies `envPath` (file or directory) to `hostPath`; false when it does not exist. Entries it leaves out (links
 * out of it, devices; see collect.ts) are added to `skipped`.
 */
export async function downloadPath(
  container: Docker.Container,
  envPath: string,
  hostPath: string,
  skipped?: string[],
): Promise<boolean> {
  const archive = await getArchive(container, envPath);
  if (!archive) return false;
  // The engine names the archive's entries after envPath's base name.
  const collector = collectLogs(
    [{ from: posix.normalize(envPath), to: hostPath, archiveName: posix.basename(posix.normalize(envPath)) }],
    undefined,
  );
  try {
    await pipeline(archive, collector.sink);
    skipped?.push(...(await collector.done).skipped);
  } catch (error) {
    throw new InfraError(`downloading ${envPath} failed: ${errorMessage(error)}`, { cause: error });
  }
  return true;
}

/** A file's content; undefined when it does not exist or is a directory. Follows symbolic links. */
export async function readEnvFile(container: Docker.Container, envPath: string): Promise<Buffer | undefined> {
  let path = posix.normalize(envPath);
  for (let hops = 0; hops < 8; hops++) {
    const archive = await getArchive(container, path);
    if (!archive) return undefined;
    const first = await firstEntry(archive, path);
    if (first.type === 'file') return first.content;
    if (first.type !== 'symlink' || !first.linkTarget) return undefined;
    path = posix.resolve(posix.dirname(path), first.linkTarget);
  }
  return undefined;
}

async function firstEntry(
  archive: Readable,
  envPath: string,
): Promise<{ type: string; content?: Buffer; linkTarget?: string }> {
  const extract = tarStream.extract();
  let result: { type: string; content?: Buffer; linkTarget?: string } | undefined;
  extract.on('entry', (header, stream, next) => {
    if (result !== undefined) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      result = {
        type: header.type ?? 'file',
        content: Buffer.concat(chunks),
        linkTarget: header.linkname ?? undefined,
      };
      next();
    });
  });
  try {
    await pipeline(archive, extract);
  } catch (error) {
    throw new InfraError(`reading ${envPath} from the container failed: ${errorMessage(error)}`, { cause: error });
  }
  return result ?? { type: 'missing' };
}
