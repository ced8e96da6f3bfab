import type Docker from 'dockerode';
import { lstat, mkdir } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarFs from 'tar-fs';
import tarStream from 'tar-stream';
import { InfraError, errorMessage } from '../../errors.js';
import { packFiles } from './context.js';

/**
 * File transfer with the engine's archive API (tar in, tar out): no exec, no `docker cp` process. Archives are
 * extracted at `/` with full paths, because the engine creates missing parent directories for tar entries but
 * refuses a destination directory that does not exist.
 */

function statusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? Number((error as { statusCode: unknown }).statusCode) : undefined;
}

/** `/a/b/` → `a/b` (tar names are relative to the extraction root `/`). */
function relativeToRoot(envPath: string): string {
  const normalized = posix.normalize(envPath);
  if (!normalized.startsWith('/')) throw new InfraError(`environment paths must be absolute, got ${envPath}`, { retryable: false });
  return normalized.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Copies a host file, or a directory's contents, to `envPath` (files owned by root, modes kept). */
export async function uploadPath(container: Docker.Container, hostPath: string, envPath: string): Promise<void> {
  const target = relativeToRoot(envPath);
  if (target === '') throw new InfraError('refusing to upload onto / of the container', { retryable: false });
  let info;
  try {
    info = await lstat(hostPath);
  } catch (error) {
    throw new InfraError(`cannot upload ${hostPath}: ${errorMessage(error)}`, { cause: error, retryable: false });
  }
  const archive: Readable = info.isDirectory()
    ? tarFs.pack(hostPath, {
        map: (header) => {
          header.name = header.name === '.' || header.name === '' ? target : posix.join(target, header.name);
          header.uid = 0;
          header.gid = 0;
          return header;
        },
      })
    : tarFs.pack(dirname(hostPath), {
        entries: [basename(hostPath)],
        map: (header) => {
          header.name = target;
          header.uid = 0;
          header.gid = 0;
          return header;
        },
      });
  await put(container, archive, `upload ${hostPath} → ${envPath}`);
}

/** A directory's contents as a tar (names relative to it, owned by root, modes kept). */
export function packDirectory(hostDir: string): Readable {
  return tarFs.pack(hostDir, {
    map: (header) => {
      header.uid = 0;
      header.gid = 0;
      return header;
    },
  });
}

export async function writeEnvFile(container: Docker.Container, envPath: string, content: string | Uint8Array, mode?: number): Promise<void> {
  const target = relativeToRoot(envPath);
  await put(container, packFiles([{ path: target, content, mode }]), `write ${envPath}`);
}

async function put(container: Docker.Container, archive: Readable, what: string): Promise<void> {
  try {
    await container.putArchive(archive, { path: '/' });
  } catch (error) {
    throw new InfraError(`${what} failed: ${errorMessage(error)}`, { cause: error });
  }
}

async function getArchive(container: Docker.Container, envPath: string): Promise<Readable | undefined> {
  try {
    return (await container.getArchive({ path: envPath })) as unknown as Readable;
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw new InfraError(`reading ${envPath} from the container failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** Copies `envPath` (file or directory) to `hostPath`; false when it does not exist. */
export async function downloadPath(container: Docker.Container, envPath: string, hostPath: string): Promise<boolean> {
  const archive = await getArchive(container, envPath);
  if (!archive) return false;
  const top = basename(hostPath);
  await mkdir(dirname(hostPath), { recursive: true });
  try {
    await pipeline(
      archive,
      tarFs.extract(dirname(hostPath), {
        // The archive's first component is basename(envPath); it becomes basename(hostPath).
        map: (header) => {
          const slash = header.name.indexOf('/');
          header.name = slash < 0 ? top : `${top}${header.name.slice(slash)}`;
          return header;
        },
      }),
    );
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

async function firstEntry(archive: Readable, envPath: string): Promise<{ type: string; content?: Buffer; linkTarget?: string }> {
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
      result = { type: header.type ?? 'file', content: Buffer.concat(chunks), linkTarget: header.linkname ?? undefined };
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
