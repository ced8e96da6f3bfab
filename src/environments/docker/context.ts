import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { parseDockerfile } from '../dockerfile.js';

/**
 * The build context of a task image, and its content hash.
 *
 * Harbor's rule: the context is `environment/`. Legacy skill-eval tasks wrote Dockerfiles whose COPY/ADD
 * sources live in the task root (`COPY environment/app /app`, `COPY skills /skills`); when a source is missing
 * from `environment/` but present in the task root, the context becomes the task root, limited to the
 * top-level entries the Dockerfile copies from, and never `tests/`, `solution/` or `.git/` (the agent must not
 * find the verifier or the reference solution baked into its image).
 */

/** Never part of a task-root context. */
export const EXCLUDED_FROM_ROOT_CONTEXT = ['tests', 'solution', '.git'];

/** Bumped when what the hash covers changes, so old tags are not reused by mistake. */
const HASH_SCHEME = 'skill-eval/build-context@2';

/**
 * Baked into every image built from a Dockerfile: the Harbor log directories, world-writable, so a trial's
 * container needs no extra engine call (an archive upload costs ~80 ms) before its first exec. A COPY from a
 * synthetic context folder, not a RUN: it needs nothing from the image and is root-owned whatever USER says.
 */
export const HARBOR_DIRS_SOURCE = '.skill-eval-harbor';
export const HARBOR_DIRS = ['logs/agent', 'logs/verifier', 'logs/artifacts'];
export const DOCKERFILE_SUFFIX = [
  '',
  '# added by skill-eval: the Harbor log directories',
  `COPY ${HARBOR_DIRS_SOURCE}/ /`,
  '',
].join('\n');

export interface ContextEntry {
  /** Relative to the context root, `/`-separated. */
  path: string;
  hostPath: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits only. */
  mode: number;
  size: number;
  mtime: Date;
  linkTarget?: string | undefined;
}

export interface BuildContextPlan {
  kind: 'environment' | 'task-root';
  /** Host directory the context is taken from. */
  root: string;
  /** The Dockerfile, relative to `root` (`/`-separated). */
  dockerfile: string;
  /** Every entry sent to the engine, sorted by path. */
  entries: ContextEntry[];
  /** sha256 (hex) over the Dockerfile path, build args and every entry's path, type, mode and content. */
  hash: string;
  notes: string[];
}

export interface PlanContextInput {
  taskDir: string;
  /** Absolute path of environment/Dockerfile. */
  dockerfile: string;
  buildArgs?: Record<string, string> | undefined;
}

const GLOB = /[*?[]/;

function normalizeSource(source: string): string {
  // Docker resolves absolute sources against the context root too.
  return source.replace(/^\/+/, '').replace(/^(\.\/)+/, '') || '.';
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** Decides the context directory, then walks and hashes it. */
export async function planBuildContext(input: PlanContextInput): Promise<BuildContextPlan> {
  const taskDir = resolve(input.taskDir);
  const dockerfile = resolve(input.dockerfile);
  const environmentDir = resolve(dockerfile, '..');
  const summary = parseDockerfile(await readFile(dockerfile, 'utf8'));
  const notes: string[] = [];

  const rootSources: string[] = [];
  let needsRoot = false;
  for (const copy of summary.copies) {
    if (copy.fromStage !== undefined) continue;
    for (const raw of copy.sources) {
      if (/^https?:\/\//.test(raw) || raw.startsWith('<<')) continue;
      const source = normalizeSource(raw);
      rootSources.push(source);
      if (GLOB.test(source)) continue; // a glob is matched by the engine; it never decides the context alone
      const inEnvironment = resolve(environmentDir, source);
      const inRoot = resolve(taskDir, source);
      if (inside(environmentDir, inEnvironment) && existsSync(inEnvironment)) continue;
      if (inside(taskDir, inRoot) && existsSync(inRoot)) {
        needsRoot = true;
        notes.push(
          `${copy.instruction} ${raw} (Dockerfile line ${copy.line}) is not in environment/ but in the task root`,
        );
      }
    }
  }

  if (!needsRoot) {
    const entries = await walk(environmentDir, environmentDir, () => true);
    const dockerfilePath = toPosix(relative(environmentDir, dockerfile));
    return {
      kind: 'environment',
      root: environmentDir,
      dockerfile: dockerfilePath,
      entries,
      hash: await hashContext(dockerfilePath, input.buildArgs, entries),
      notes,
    };
  }

  // Legacy layout: the task root, limited to what the Dockerfile copies from.
  const dockerfilePath = toPosix(relative(taskDir, dockerfile));
  const firstParts = new Set<string>([dockerfilePath.split('/')[0]!]);
  let everything = false;
  for (const source of rootSources) {
    const first = source.split('/')[0]!;
    if (first === '.' || first === '..' || GLOB.test(first)) everything = true;
    else firstParts.add(first);
  }
  for (const source of rootSources) {
    const first = source.split('/')[0]!;
    if (EXCLUDED_FROM_ROOT_CONTEXT.includes(first)) {
      notes.push(
        `the Dockerfile copies ${source}, but ${first}/ is never part of the build context (the agent must not see it)`,
      );
    }
  }
  const topLevelAllowed = (name: string): boolean =>
    !EXCLUDED_FROM_ROOT_CONTEXT.includes(name) && (everything || firstParts.has(name));
  const entries = await walk(taskDir, taskDir, (path) => topLevelAllowed(path.split('/')[0]!));
  notes.unshift(
    `legacy build context: the task root${
      everything
        ? ''
        : ` (only ${[...firstParts]
            .filter((p) => !EXCLUDED_FROM_ROOT_CONTEXT.includes(p))
            .sort()
            .join(', ')})`
    }, never ${EXCLUDED_FROM_ROOT_CONTEXT.map((p) => `${p}/`).join(', ')}`,
  );
  if (entries.some((e) => e.path === 'skills' || e.path.startsWith('skills/'))) {
    notes.push('the Dockerfile copies skills/ into the image: the no-skills arm sees them too');
  }
  return {
    kind: 'task-root',
    root: taskDir,
    dockerfile: dockerfilePath,
    entries,
    hash: await hashContext(dockerfilePath, input.buildArgs, entries),
    notes,
  };
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

async function walk(root: string, dir: string, allow: (relativePath: string) => boolean): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [];
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const hostPath = join(dir, name);
    const path = toPosix(relative(root, hostPath));
    if (!allow(path)) continue;
    const info = await lstat(hostPath);
    const base = { path, hostPath, mode: info.mode & 0o7777, mtime: info.mtime };
    if (info.isDirectory()) {
      out.push({ ...base, type: 'directory', size: 0 });
      out.push(...(await walk(root, hostPath, allow)));
    } else if (info.isFile()) {
      out.push({ ...base, type: 'file', size: info.size });
    } else if (info.isSymbolicLink()) {
      out.push({ ...base, type: 'symlink', size: 0, linkTarget: await readlink(hostPath) });
    }
    // sockets, fifos and devices have no place in an image build
  }
  return out;
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function hashContext(
  dockerfile: string,
  buildArgs: Record<string, string> | undefined,
  entries: ContextEntry[],
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${HASH_SCHEME}\0dockerfile\0${dockerfile}\0${DOCKERFILE_SUFFIX}\0`);
  const args = Object.entries(buildArgs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  hash.update(`buildargs\0${JSON.stringify(args)}\0`);
  for (const entry of entries) {
    hash.update(`${entry.type}\0${entry.path}\0${entry.mode.toString(8)}\0`);
    if (entry.type === 'file') hash.update(`${entry.size}\0${await fileDigest(entry.hostPath)}\0`);
    if (entry.type === 'symlink') hash.update(`${entry.linkTarget}\0`);
  }
  return hash.digest('hex');
}

/** `add(header, content?)` for a tar pack, awaiting each entry. */
export function entryAdder(
  pack: tarStream.Pack,
): (header: Partial<tarStream.Header> & { name: string }, content?: Buffer) => Promise<void> {
  return (header, content) =>
    new Promise<void>((done, fail) => {
      const callback = (error?: Error | null): void => (error ? fail(error) : done());
      if (content === undefined) pack.entry(header, callback);
      else pack.entry(header, content, callback);
    });
}

/**
 * The context as a tar stream, entries in plan order, owned by root (the image's files should not carry host
 * uids); the Dockerfile gets DOCKERFILE_SUFFIX and the context the folder it copies.
 */
export function packContext(plan: Pick<BuildContextPlan, 'entries' | 'dockerfile'>): Readable {
  const pack = tarStream.pack();
  const add = entryAdder(pack);
  void (async () => {
    try {
      // `.skill-eval-harbor/`, `…/logs/` (0755), then the log directories themselves (0777).
      const parents = [...new Set(HARBOR_DIRS.map((d) => d.split('/').slice(0, -1).join('/')))];
      for (const dir of ['', ...parents])
        await add({
          name: `${HARBOR_DIRS_SOURCE}/${dir ? `${dir}/` : ''}`,
          type: 'directory',
          mode: 0o755,
          mtime: new Date(0),
          uid: 0,
          gid: 0,
        });
      for (const dir of HARBOR_DIRS)
        await add({
          name: `${HARBOR_DIRS_SOURCE}/${dir}/`,
          type: 'directory',
          mode: 0o777,
          mtime: new Date(0),
          uid: 0,
          gid: 0,
        });
      for (const entry of plan.entries) {
        const header = { name: entry.path, mode: entry.mode, mtime: entry.mtime, uid: 0, gid: 0 };
        if (entry.path === plan.dockerfile && entry.type === 'file') {
          const original = (await readFile(entry.hostPath, 'utf8')).replace(/\\?\s*$/, '');
          await add({ ...header, type: 'file' }, Buffer.from(`${original}\n${DOCKERFILE_SUFFIX}`));
        } else if (entry.type === 'directory') {
          await add({ ...header, type: 'directory' });
        } else if (entry.type === 'symlink') {
          await add({ ...header, type: 'symlink', linkname: entry.linkTarget });
        } else {
          await add({ ...header, type: 'file' }, await readFile(entry.hostPath));
        }
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** A tar stream of in-memory files (extra image layers, single-file uploads). */
export function packFiles(
  files: Array<{ path: string; content: string | Uint8Array; mode?: number | undefined }>,
): Readable {
  const pack = tarStream.pack();
  const add = entryAdder(pack);
  void (async () => {
    try {
      for (const file of files)
        await add(
          { name: file.path, mode: file.mode ?? 0o644, uid: 0, gid: 0, mtime: new Date(), type: 'file' },
          Buffer.from(file.content),
        );
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** Directory entries (names ending in `/`), owned by root with `mode`. */
export function packDirectories(dirs: string[], mode = 0o777): Readable {
  const pack = tarStream.pack();
  for (const dir of dirs) pack.entry({ name: dir, type: 'directory', mode, uid: 0, gid: 0, mtime: new Date() });
  pack.finalize();
  return pack as unknown as Readable;
}
