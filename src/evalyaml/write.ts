import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { removeTree } from '../util/remove-tree.js';
import type { ConvertedEval } from './load.js';
import type { PlannedFile } from './task-files.js';

/** Writes one task directory's files (modes 755/644: the checksum counts only the execute bit). */
async function writeFiles(dir: string, files: readonly PlannedFile[]): Promise<void> {
  for (const file of files) {
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.data);
    await chmod(target, file.executable ? 0o755 : 0o644);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `tasks convert`: each eval as `<outDir>/<name>/`. An existing folder is an error (nothing written) unless
 * `force`, which replaces it whole, so no file of an older conversion lingers.
 */
export async function writeTaskDirs(
  converted: readonly ConvertedEval[],
  outDir: string,
  options: { force: boolean },
): Promise<string[]> {
  const dirs = converted.map((c) => join(outDir, c.name));
  if (!options.force) {
    const taken = [];
    for (const dir of dirs) if (await exists(dir)) taken.push(dir);
    if (taken.length > 0)
      throw new UsageError(`${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}`, {
        hint: 'pass --force to replace them, or --out another directory',
      });
  }
  for (const [i, task] of converted.entries()) {
    const dir = dirs[i]!;
    await removeTree(dir);
    await writeFiles(dir, task.files);
  }
  return dirs;
}

/** sha256 over every converted task's files (name, path, mode, content): the cache key. */
function conversionDigest(converted: readonly ConvertedEval[]): string {
  const hash = createHash('sha256');
  for (const task of converted) {
    for (const file of task.files) {
      const header = `${task.name}/${file.path}\0${file.executable ? '755' : '644'}\0${file.data.length}\0`;
      hash.update(`${Buffer.byteLength(header)}:${header}`);
      hash.update(file.data);
    }
  }
  return hash.digest('hex');
}

/**
 * `eval path/to/eval.yaml`: the tasks in `<cacheDir>/<digest>/<name>/`, content-addressed, so the same eval.yaml
 * (and files) is the same task directories — and checksums — on every run, and a resumed job finds them. Written
 * to a temporary folder first and renamed into place, so a half-written conversion is never used.
 */
export async function convertIntoCache(converted: readonly ConvertedEval[], cacheDir: string): Promise<string[]> {
  const final = join(cacheDir, conversionDigest(converted).slice(0, 16));
  const dirs = converted.map((c) => join(final, c.name));
  if (await exists(final)) return dirs;
  const temporary = join(cacheDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const task of converted) await writeFiles(join(temporary, task.name), task.files);
    await rename(temporary, final).catch(async (error: NodeJS.ErrnoException) => {
      // Another run converted the same files meanwhile: theirs is identical.
      if (!(await exists(final))) throw error;
    });
  } finally {
    await removeTree(temporary);
  }
  return dirs;
}
