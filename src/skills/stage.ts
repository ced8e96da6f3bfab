import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { hashEntries, listFiles } from '../util/file-tree.js';

/**
 * What a skill author keeps in a skill folder that is not the skill: its evaluation tasks (`evals/`, with their
 * tests and solutions), a skillgrade `eval.yaml`, `.env` files with keys, version control, dependencies, results.
 * None of it may reach the agent.
 */
export const NOT_THE_SKILL: ReadonlySet<string> = new Set([
  'evals',
  'eval.yaml',
  'eval.yml',
  '.git',
  'node_modules',
  'results',
]);

function leftOut(name: string): boolean {
  return NOT_THE_SKILL.has(name) || name === '.env' || name.startsWith('.env.');
}

/**
 * The folder to inject for a skill: the folder itself, or — when it holds any of NOT_THE_SKILL at its top — a copy
 * without those, under `stagingRoot/<sha256>/<name>` (the same content gives the same folder, so a resumed job
 * finds the same digest). Returns what was left out, for the user to see.
 */
export async function stageSkillFolder(dir: string, stagingRoot: string): Promise<{ dir: string; leftOut: string[] }> {
  const top = await readdir(dir);
  const excluded = top.filter(leftOut).sort();
  if (excluded.length === 0) return { dir, leftOut: [] };
  const files = (await listFiles(dir)).filter((entry) => !leftOut(entry.relativePath.split('/')[0]!));
  const digest = await hashEntries(files, { includeMode: true });
  const target = join(stagingRoot, digest, basename(dir));
  if (!(await stat(target).catch(() => undefined))) {
    // Copied next to its place, then renamed: a concurrent run never sees half a skill.
    const partial = `${target}.partial-${process.pid}`;
    await mkdir(join(stagingRoot, digest), { recursive: true });
    await cp(dir, partial, { recursive: true, verbatimSymlinks: true, filter: (source) => keep(dir, source) });
    await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
      await rm(partial, { recursive: true, force: true });
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  }
  return { dir: target, leftOut: excluded };
}

function keep(root: string, source: string): boolean {
  if (source === root) return true;
  const first = source.slice(root.length + 1).split('/')[0]!;
  return !leftOut(first);
}
