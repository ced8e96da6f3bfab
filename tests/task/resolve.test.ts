import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { expandTaskSpecs, readSuiteFile, resolveTaskDir } from '../../src/task/resolve.js';
import { HEALTHY_TASK, tempDir, writeTree } from './helpers.js';

let cwd: string;
let cleanup: () => Promise<void>;
let tasks: string;

beforeAll(async () => {
  const tmp = await tempDir();
  cwd = tmp.path;
  cleanup = tmp.cleanup;
  tasks = join(cwd, 'tasks');
  for (const name of ['superlint_demo', 'pdf_extract', 'pdf_merge', 'csv_clean'])
    await writeTree(join(tasks, name), HEALTHY_TASK);
  // Meant to be a task but lacks task.toml: still resolvable so loading can report it.
  await writeTree(join(tasks, 'half_task'), { 'instruction.md': 'x\n' });
  await mkdir(join(tasks, 'not_a_task'), { recursive: true });
  await writeTree(join(cwd, 'elsewhere', 'lone_task'), HEALTHY_TASK);
  await writeTree(join(cwd, 'more', 'alpha'), HEALTHY_TASK);
  await writeTree(join(cwd, 'more', 'beta'), HEALTHY_TASK);
  await writeTree(join(cwd, 'suites'), {
    'smoke.txt':
      '# smoke suite\npdf_merge\n\n../elsewhere/lone_task   # by path, relative to this file\nsuperlint\npdf_merge\n',
    'nested.txt': 'smoke.txt\ncsv_clean\n',
    'loop.txt': 'loop.txt\n',
  });
});

afterAll(async () => {
  await cleanup();
});

async function usageError(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('resolveTaskDir', () => {
  it('resolves an exact name under ./tasks', async () => {
    expect(await resolveTaskDir('pdf_merge', { cwd })).toBe(join(tasks, 'pdf_merge'));
  });

  it('resolves a unique prefix', async () => {
    expect(await resolveTaskDir('superlint', { cwd })).toBe(join(tasks, 'superlint_demo'));
  });

  it('throws on an ambiguous prefix, listing the candidates', async () => {
    const error = await usageError(resolveTaskDir('pdf', { cwd }));
    expect(error.message).toContain('ambiguous');
    expect(error.message).toContain('pdf_extract');
    expect(error.message).toContain('pdf_merge');
  });

  it('throws on an unknown name, listing the available tasks', async () => {
    const error = await usageError(resolveTaskDir('nope', { cwd }));
    expect(error.message).toContain('unknown task "nope"');
    expect(error.message).toContain('csv_clean');
    expect(error.message).not.toContain('not_a_task');
  });

  it('resolves a path to a task directory, relative or absolute', async () => {
    expect(await resolveTaskDir('elsewhere/lone_task', { cwd })).toBe(join(cwd, 'elsewhere', 'lone_task'));
    expect(await resolveTaskDir(join(cwd, 'elsewhere', 'lone_task'), { cwd: '/' })).toBe(
      join(cwd, 'elsewhere', 'lone_task'),
    );
  });

  it('uses tasksDir for names', async () => {
    expect(await resolveTaskDir('alp', { cwd, tasksDir: 'more' })).toBe(join(cwd, 'more', 'alpha'));
  });

  it('resolves a task dir that lacks task.toml (so loading can report it)', async () => {
    expect(await resolveTaskDir('half_task', { cwd })).toBe(join(tasks, 'half_task'));
  });

  it('rejects a path that is not a task directory or does not exist', async () => {
    expect((await usageError(resolveTaskDir('tasks/not_a_task', { cwd }))).message).toContain('not a task directory');
    expect((await usageError(resolveTaskDir('./missing/dir', { cwd }))).message).toContain('no such task directory');
  });

  it('names a symbolic link loop as one, by path or inside a list of specs', async () => {
    await symlink(join(cwd, 'loop'), join(cwd, 'loop'));
    const expected = 'loop: expected a task directory; found a symbolic link loop';
    expect((await usageError(resolveTaskDir('./loop', { cwd }))).message).toBe(expected);
    expect((await usageError(expandTaskSpecs(['tasks/csv_clean', './loop'], { cwd }))).message).toBe(expected);
  });
});

describe('expandTaskSpecs', () => {
  it('expands a folder into its task directories, sorted, including broken ones', async () => {
    expect(await expandTaskSpecs(['tasks'], { cwd })).toEqual(
      ['csv_clean', 'half_task', 'pdf_extract', 'pdf_merge', 'superlint_demo'].map((name) => join(tasks, name)),
    );
  });

  it('expands a glob', async () => {
    expect(await expandTaskSpecs(['tasks/pdf_*'], { cwd })).toEqual([
      join(tasks, 'pdf_extract'),
      join(tasks, 'pdf_merge'),
    ]);
    expect(await expandTaskSpecs(['*/lone_*'], { cwd })).toEqual([join(cwd, 'elsewhere', 'lone_task')]);
    expect((await usageError(expandTaskSpecs(['tasks/zzz*'], { cwd }))).message).toContain('no task directories match');
  });

  it('reads a suite file: comments, blank lines, names, prefixes, paths relative to the file, no duplicates', async () => {
    expect(await expandTaskSpecs(['suites/smoke.txt'], { cwd })).toEqual([
      join(tasks, 'pdf_merge'),
      join(cwd, 'elsewhere', 'lone_task'),
      join(tasks, 'superlint_demo'),
    ]);
  });

  it('follows nested suite files and refuses loops', async () => {
    expect(await expandTaskSpecs(['suites/nested.txt'], { cwd })).toHaveLength(4);
    expect((await usageError(expandTaskSpecs(['suites/loop.txt'], { cwd }))).message).toContain('includes itself');
    expect((await usageError(expandTaskSpecs(['suites/none.txt'], { cwd }))).message).toContain('does not exist');
  });

  it('mixes spec kinds and removes duplicates, keeping first-seen order', async () => {
    expect(await expandTaskSpecs(['pdf_merge', 'tasks/pdf_*', 'more', join(tasks, 'pdf_merge')], { cwd })).toEqual([
      join(tasks, 'pdf_merge'),
      join(tasks, 'pdf_extract'),
      join(cwd, 'more', 'alpha'),
      join(cwd, 'more', 'beta'),
    ]);
  });

  it('rejects a folder with no tasks in it', async () => {
    expect((await usageError(expandTaskSpecs(['suites'], { cwd }))).message).toContain(
      'neither a task directory nor a folder of task directories',
    );
  });

  it('propagates unknown names', async () => {
    await usageError(expandTaskSpecs(['pdf_merge', 'nope'], { cwd }));
  });
});

describe('readSuiteFile', () => {
  it('drops comments and blank lines', async () => {
    expect(await readSuiteFile(join(cwd, 'suites', 'smoke.txt'))).toEqual([
      'pdf_merge',
      '../elsewhere/lone_task',
      'superlint',
      'pdf_merge',
    ]);
  });
});
