import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { resolveGitTarget } from './git.js';
import { type HfManifest, resolveHfTarget } from './hf.js';
import { parseTargetSpec, type TargetSpec, targetSlug } from './spec.js';

export { parseTargetSpec, slugify, type TargetSpec, targetSlug } from './spec.js';

export interface ResolveOptions {
  /** Default `~/.cache/skill-eval/targets` (`SKILL_EVAL_CACHE_DIR` overrides). */
  cacheDir?: string | undefined;
  offline?: boolean | undefined;
  cwd?: string | undefined;
  /** Hugging Face options. */
  hfEndpoint?: string | undefined;
  hfToken?: string | undefined;
  include?: readonly string[] | undefined;
  maxFileBytes?: number | undefined;
  maxTotalBytes?: number | undefined;
}

export interface ResolvedTarget {
  spec: string;
  kind: TargetSpec['kind'];
  slug: string;
  /** Absolute directory holding the target's files. */
  dir: string;
  /** What the user asked for (branch, tag, sha), when the kind has revisions. */
  revision?: string | undefined;
  /** The commit it resolved to. */
  commit?: string | undefined;
  manifestPath?: string | undefined;
  manifest?: HfManifest | undefined;
  fromCache: boolean;
  notes: string[];
}

export function defaultCacheDir(): string {
  return process.env.SKILL_EVAL_CACHE_DIR ?? join(homedir(), '.cache', 'skill-eval', 'targets');
}

/** Makes a target's files available locally: a directory as it is; git and Hub targets through the cache. */
export async function resolveTarget(specText: string, options: ResolveOptions = {}): Promise<ResolvedTarget> {
  const spec = parseTargetSpec(specText, options.cwd);
  const slug = targetSlug(spec);
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  if (spec.kind === 'local') {
    const info = await stat(spec.path).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`target ${specText}: ${spec.path} is not a directory`);
    return { spec: specText, kind: 'local', slug, dir: spec.path, fromCache: false, notes: [] };
  }
  if (spec.kind === 'git') {
    const resolved = await resolveGitTarget({
      url: spec.url,
      revision: spec.revision,
      slug,
      cacheDir,
      offline: options.offline,
    });
    return {
      spec: specText,
      kind: 'git',
      slug,
      dir: resolved.dir,
      revision: resolved.revision,
      commit: resolved.commit,
      fromCache: resolved.fromCache,
      notes: resolved.notes,
    };
  }
  const resolved = await resolveHfTarget({
    repoId: spec.repoId,
    revision: spec.revision,
    slug,
    cacheDir,
    endpoint: options.hfEndpoint,
    token: options.hfToken,
    offline: options.offline,
    include: options.include,
    maxFileBytes: options.maxFileBytes,
    maxTotalBytes: options.maxTotalBytes,
  });
  return {
    spec: specText,
    kind: 'hf',
    slug,
    dir: resolved.dir,
    revision: resolved.revision,
    commit: resolved.commit,
    manifestPath: resolved.manifestPath,
    manifest: resolved.manifest,
    fromCache: resolved.fromCache,
    notes: resolved.notes,
  };
}
