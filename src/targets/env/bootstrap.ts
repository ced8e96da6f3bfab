import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import type { Contract } from '../contract.js';

/**
 * Bootstrap runs once per key (its commands and the content of its key files): what it installed lives in
 * a cached directory later runs reuse, and a marker beside it says it finished.
 */

export type BootstrapSpec = NonNullable<Contract['bootstrap']>;

export interface BootstrapCache {
  key: string;
  /** `SKILL_EVAL_BOOTSTRAP_DIR`. */
  dir: string;
  /** Written when bootstrap succeeded. */
  marker: string;
}

export async function bootstrapCache(
  spec: BootstrapSpec,
  target: { dir: string; slug: string },
  cacheDir: string,
): Promise<BootstrapCache> {
  const hash = createHash('sha256').update(JSON.stringify(spec.commands));
  for (const file of spec.key_files)
    hash.update(`\0${file}\0`).update(await readFile(join(target.dir, file)).catch(() => Buffer.from('(missing)')));
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'bootstrap', target.slug, key);
  return { key, dir, marker: `${dir}.done.json` };
}

export async function isBootstrapped(cache: BootstrapCache): Promise<boolean> {
  return stat(cache.marker).then(
    () => true,
    () => false,
  );
}

/** An empty directory for a bootstrap that has not finished (a half-done one is thrown away). */
export async function emptyBootstrapDir(cache: BootstrapCache): Promise<void> {
  await rm(cache.dir, { recursive: true, force: true });
  await mkdir(cache.dir, { recursive: true });
}

export async function markBootstrapped(cache: BootstrapCache, spec: BootstrapSpec): Promise<void> {
  await writeJsonAtomic(cache.marker, {
    key: cache.key,
    commands: spec.commands,
    key_files: spec.key_files,
    at: new Date().toISOString(),
  });
}
