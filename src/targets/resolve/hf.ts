import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import picomatch from 'picomatch';
import { z } from 'zod';
import { InfraError, UsageError } from '../../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;
export const DEFAULT_MAX_TOTAL_BYTES = 10 * 1024 ** 3;

export interface HfResolveOptions {
  repoId: string;
  revision?: string | undefined;
  slug: string;
  cacheDir: string;
  /** The Hub; `HF_ENDPOINT` as in huggingface_hub, else huggingface.co. */
  endpoint?: string | undefined;
  token?: string | undefined;
  offline?: boolean | undefined;
  /** Only files matching one of these globs are fetched (all when absent). */
  include?: readonly string[] | undefined;
  maxFileBytes?: number | undefined;
  maxTotalBytes?: number | undefined;
  timeoutMs?: number | undefined;
}

export interface HfManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface HfManifest {
  schema: 'skill-eval/hf-manifest@1';
  repo_id: string;
  revision: string;
  sha: string;
  endpoint: string;
  fetched_at: string;
  files: HfManifestFile[];
  total_bytes: number;
}

export interface HfResolved {
  dir: string;
  commit: string;
  revision: string;
  manifestPath: string;
  manifest: HfManifest;
  fromCache: boolean;
  notes: string[];
}

const revisionInfoSchema = z
  .object({
    sha: z.string().min(1),
    siblings: z.array(
      z
        .object({
          rfilename: z.string().min(1),
          size: z.number().int().nonnegative().optional(),
          lfs: z
            .object({ sha256: z.string().optional(), size: z.number().int().nonnegative().optional() })
            .passthrough()
            .optional(),
        })
        .passthrough(),
    ),
  })
  .passthrough();

const FULL_SHA = /^[0-9a-f]{40}$/i;

function safeRelative(path: string): boolean {
  const normalised = normalize(path);
  return (
    !normalised.startsWith('..') &&
    !normalised.startsWith(sep) &&
    !normalised.split(sep).includes('..') &&
    !/^[A-Za-z]:/.test(path)
  );
}

async function readManifest(path: string): Promise<HfManifest | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as HfManifest;
  } catch {
    return undefined;
  }
}

/** A cached snapshot counts only when every manifest file is there with its size. */
async function snapshotComplete(dir: string, manifest: HfManifest): Promise<boolean> {
  for (const file of manifest.files) {
    const info = await stat(join(dir, file.path)).catch(() => undefined);
    if (!info || info.size !== file.size) return false;
  }
  return true;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

async function hubFetch(url: string, token: string | undefined, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (error) {
    throw new InfraError(`Hugging Face Hub ${new URL(url).origin}: ${(error as Error).message}`, {
      cause: error,
      retryable: true,
    });
  }
}

function httpFailure(what: string, response: Response): InfraError | UsageError {
  if (response.status === 401 || response.status === 403) {
    return new InfraError(`${what}: HTTP ${response.status} (authentication)`, {
      retryable: false,
      hint: 'set HF_TOKEN to a token that can read this dataset (gated datasets need their terms accepted)',
    });
  }
  if (response.status === 404)
    return new UsageError(`${what}: not found (HTTP 404)`, { hint: 'check the dataset id and revision' });
  return new InfraError(`${what}: HTTP ${response.status}`, {
    retryable: response.status >= 500 || response.status === 429,
  });
}

/** Streams one file to disk under the size cap, hashing as it goes; the file appears only when complete. */
async function downloadFile(
  url: string,
  target: string,
  options: {
    token: string | undefined;
    maxBytes: number;
    timeoutMs: number;
    expectedSha256?: string | undefined;
    label: string;
  },
): Promise<HfManifestFile & { bytes: number }> {
  const response = await hubFetch(url, options.token, options.timeoutMs);
  if (!response.ok || !response.body) throw httpFailure(options.label, response);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body.cancel();
    throw new UsageError(`${options.label}: ${declared} bytes is over the per-file cap of ${options.maxBytes}`, {
      hint: 'raise --max-file-bytes or narrow the files with --include',
    });
  }
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  let size = 0;
  const counter = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > options.maxBytes)
        throw new UsageError(`${options.label}: more than the per-file cap of ${options.maxBytes} bytes`, {
          hint: 'raise --max-file-bytes or narrow the files with --include',
        });
      hash.update(chunk);
      yield chunk;
    }
  };
  try {
    await pipeline(
      Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(temp),
    );
  } catch (error) {
    await rm(temp, { force: true });
    throw error instanceof UsageError || error instanceof InfraError
      ? error
      : new InfraError(`${options.label}: download failed: ${(error as Error).message}`, { cause: error });
  }
  const sha256 = hash.digest('hex');
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    await rm(temp, { force: true });
    throw new InfraError(`${options.label}: sha256 ${sha256} does not match the Hub's ${options.expectedSha256}`, {
      retryable: true,
    });
  }
  await rename(temp, target);
  return { path: '', size, sha256, bytes: size };
}

type HubFile = z.output<typeof revisionInfoSchema>['siblings'][number];

interface SizeCaps {
  maxFileBytes: number;
  maxTotalBytes: number;
}

/** The files to fetch (those `include` matches), refused before any download when unsafe or over a cap. */
function wantedFiles(
  label: string,
  siblings: HubFile[],
  includeGlobs: readonly string[] | undefined,
  caps: SizeCaps,
): HubFile[] {
  const include = includeGlobs && includeGlobs.length > 0 ? picomatch([...includeGlobs], { dot: true }) : undefined;
  const { maxFileBytes, maxTotalBytes } = caps;
  const wanted = siblings.filter((file) => !include || include(file.rfilename));
  for (const file of wanted) {
    if (!safeRelative(file.rfilename))
      throw new InfraError(`${label}: refusing file path ${JSON.stringify(file.rfilename)} (outside the snapshot)`, {
        retryable: false,
      });
    const size = file.lfs?.size ?? file.size;
    if (size !== undefined && size > maxFileBytes)
      throw new UsageError(`${label}: ${file.rfilename} is ${size} bytes, over the per-file cap of ${maxFileBytes}`, {
        hint: 'raise --max-file-bytes or narrow the files with --include',
      });
  }
  const declaredTotal = wanted.reduce((sum, file) => sum + (file.lfs?.size ?? file.size ?? 0), 0);
  if (declaredTotal > maxTotalBytes)
    throw new UsageError(
      `${label}: ${declaredTotal} bytes in ${wanted.length} files, over the total cap of ${maxTotalBytes}`,
      { hint: 'raise --max-total-bytes or narrow the files with --include' },
    );
  return wanted;
}

/** Downloads the files into a staging directory, then moves it into place as the snapshot (all or nothing). */
async function downloadSnapshot(
  wanted: HubFile[],
  plan: SizeCaps & {
    label: string;
    urlOf: (path: string) => string;
    staging: string;
    snapshot: string;
    token: string | undefined;
    timeoutMs: number;
  },
): Promise<{ files: HfManifestFile[]; total: number }> {
  const { label, staging, maxTotalBytes } = plan;
  const files: HfManifestFile[] = [];
  let total = 0;
  try {
    for (const file of wanted) {
      const downloaded = await downloadFile(plan.urlOf(file.rfilename), join(staging, file.rfilename), {
        token: plan.token,
        maxBytes: plan.maxFileBytes,
        timeoutMs: plan.timeoutMs,
        expectedSha256: file.lfs?.sha256,
        label: `${label}: ${file.rfilename}`,
      });
      total += downloaded.bytes;
      if (total > maxTotalBytes)
        throw new UsageError(`${label}: more than the total cap of ${maxTotalBytes} bytes`, {
          hint: 'raise --max-total-bytes or narrow the files with --include',
        });
      files.push({ path: file.rfilename, size: downloaded.size, sha256: downloaded.sha256 });
    }
    await rm(plan.snapshot, { recursive: true, force: true });
    await mkdir(dirname(plan.snapshot), { recursive: true });
    await rename(staging, plan.snapshot);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { files, total };
}

/**
 * Fetches a dataset repository at a pinned revision through the Hub's file API
 * (`/api/datasets/{id}/revision/{rev}` for the file list, `/datasets/{id}/resolve/{sha}/{path}` for files)
 * into `<cache>/hf/<slug>/snapshots/<sha>/`, with a manifest of every file's size and sha256. A commit sha
 * (or, offline, a revision name) already in the cache is used without any network.
 */
export async function resolveHfTarget(options: HfResolveOptions): Promise<HfResolved> {
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
  const token = options.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN;
  const offline = options.offline ?? ['1', 'true', 'yes'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
  const revision = options.revision ?? 'main';
  const timeoutMs = options.timeoutMs ?? 120_000;
  const root = join(options.cacheDir, 'hf', options.slug);
  const manifestFor = (sha: string): string => join(root, 'manifests', `${sha}.json`);
  const snapshotFor = (sha: string): string => join(root, 'snapshots', sha);
  const refFile = join(root, 'refs', encodeURIComponent(revision));
  const notes: string[] = [];

  const fromCache = async (sha: string, note: string): Promise<HfResolved | undefined> => {
    const manifest = await readManifest(manifestFor(sha));
    if (!manifest || !(await snapshotComplete(snapshotFor(sha), manifest))) return undefined;
    return {
      dir: snapshotFor(sha),
      commit: sha,
      revision,
      manifestPath: manifestFor(sha),
      manifest,
      fromCache: true,
      notes: [...notes, note],
    };
  };

  if (FULL_SHA.test(revision)) {
    const cached = await fromCache(revision.toLowerCase(), 'commit found in the cache; no network used');
    if (cached) return cached;
  }
  const cachedRef = (await readFile(refFile, 'utf8').catch(() => '')).trim();
  if (offline) {
    const cached = cachedRef
      ? await fromCache(cachedRef, `offline: revision ${revision} = ${cachedRef} from the cache`)
      : undefined;
    if (cached) return cached;
    throw new InfraError(`Hugging Face dataset ${options.repoId}@${revision}: not in the cache (${root}) and offline`, {
      retryable: false,
      hint: 'run once with network access to populate the cache, or unset HF_HUB_OFFLINE',
    });
  }

  const label = `Hugging Face dataset ${options.repoId}@${revision}`;
  let response: Response;
  try {
    response = await hubFetch(
      `${endpoint}/api/datasets/${options.repoId}/revision/${encodeURIComponent(revision)}?blobs=true`,
      token,
      timeoutMs,
    );
  } catch (error) {
    // No network: a revision fetched before still works.
    const cached = cachedRef
      ? await fromCache(
          cachedRef,
          `Hub unreachable (${(error as Error).message}); revision ${revision} = ${cachedRef} from the cache`,
        )
      : undefined;
    if (cached) return cached;
    throw error;
  }
  if (!response.ok) throw httpFailure(label, response);
  const parsed = revisionInfoSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new InfraError(
      `${label}: the Hub's revision info is not what the file API returns (sha, siblings[].rfilename)`,
      { retryable: false },
    );
  const sha = parsed.data.sha.toLowerCase();
  const cached = await fromCache(sha, `revision ${revision} = ${sha}, already in the cache`);
  if (cached) {
    await writeFileAtomic(refFile, sha);
    return cached;
  }

  const caps = {
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    maxTotalBytes: options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES,
  };
  const wanted = wantedFiles(label, parsed.data.siblings, options.include, caps);
  const { files, total } = await downloadSnapshot(wanted, {
    label,
    urlOf: (path) => `${endpoint}/datasets/${options.repoId}/resolve/${sha}/${encodePath(path)}`,
    staging: join(root, 'snapshots', `.tmp-${sha}-${randomBytes(4).toString('hex')}`),
    snapshot: snapshotFor(sha),
    token,
    timeoutMs,
    ...caps,
  });
  const manifest: HfManifest = {
    schema: 'skill-eval/hf-manifest@1',
    repo_id: options.repoId,
    revision,
    sha,
    endpoint,
    fetched_at: new Date().toISOString(),
    files,
    total_bytes: total,
  };
  await writeJsonAtomic(manifestFor(sha), manifest);
  await writeFileAtomic(refFile, sha);
  return {
    dir: snapshotFor(sha),
    commit: sha,
    revision,
    manifestPath: manifestFor(sha),
    manifest,
    fromCache: false,
    notes,
  };
}
