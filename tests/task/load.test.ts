import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskFormatError } from '../../src/errors.js';
import { loadTask, loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { HEALTHY_TASK, type TreeEntry, tempDir, writeTree } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A task folder `<tmp>/<name>` built from HEALTHY_TASK with `overrides` (undefined removes a file). */
async function makeTask(
  overrides: Record<string, TreeEntry | undefined> = {},
  name = 'demo_task',
): Promise<{ root: string; dir: string }> {
  const tmp = await tempDir();
  cleanups.push(tmp.cleanup);
  const dir = join(tmp.path, name);
  const files: Record<string, TreeEntry> = {};
  for (const [path, entry] of Object.entries({ ...HEALTHY_TASK, ...overrides }))
    if (entry !== undefined) files[path] = entry;
  await mkdir(dir, { recursive: true });
  await writeTree(dir, files);
  return { root: tmp.path, dir };
}

async function loadOk(dir: string, cwd?: string): Promise<Task> {
  const result = await loadTask(dir, { cwd });
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems, undefined, 2)}`);
  return result.task;
}

async function loadProblems(dir: string, cwd: string) {
  const result = await loadTask(dir, { cwd });
  if (result.ok) throw new Error('expected problems');
  expect(result.dir).toBe(dir);
  return result.problems;
}

describe('loadTask: healthy tasks', () => {
  it('fills every field of Task', async () => {
    const { dir } = await makeTask({ 'environment/Dockerfile': 'FROM debian\n' });
    const task = await loadOk(dir);
    expect(task.name).toBe('demo_task');
    expect(task.dir).toBe(dir);
    expect(task.instruction).toBe('Create hello.txt.\n');
    expect(task.config.dialect).toBe('legacy');
    expect(task.paths).toEqual({
      taskToml: join(dir, 'task.toml'),
      instruction: join(dir, 'instruction.md'),
      testsDir: join(dir, 'tests'),
      testScript: join(dir, 'tests', 'test.sh'),
      solutionDir: join(dir, 'solution'),
      environmentDir: join(dir, 'environment'),
      dockerfile: join(dir, 'environment', 'Dockerfile'),
    });
    expect(task.skills).toEqual([]);
    expect(task.warnings).toEqual([]);
    expect(task.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves optional paths undefined when solution/ and environment/ are absent', async () => {
    const { dir } = await makeTask({ 'solution/solve.sh': undefined });
    const task = await loadOk(dir);
    expect(task.paths.solutionDir).toBeUndefined();
    expect(task.paths.environmentDir).toBeUndefined();
    expect(task.paths.dockerfile).toBeUndefined();
  });

  it('loads a Harbor-dialect task', async () => {
    const { dir } = await makeTask({ 'task.toml': 'schema_version = "1.1"\n[task]\nname = "org/demo"\n' });
    const task = await loadOk(dir);
    expect(task.config.dialect).toBe('harbor');
    expect(task.config.task?.name).toBe('org/demo');
    expect(task.name).toBe('demo_task');
  });

  it('carries task.toml warnings on the task', async () => {
    const { dir } = await makeTask({ 'task.toml': 'version = "1.0"\n[environment]\nmemory = "4G"\n' });
    const task = await loadOk(dir, dir);
    expect(task.config.environment.memoryMb).toBe(4096);
    expect(task.warnings).toEqual([
      expect.objectContaining({ file: 'task.toml', key: 'environment.memory', severity: 'warning' }),
    ]);
  });

  it('warns when solution/ has no solve.sh', async () => {
    const { dir } = await makeTask({ 'solution/solve.sh': undefined, 'solution/notes.md': 'x' });
    const task = await loadOk(dir, dir);
    expect(task.paths.solutionDir).toBeUndefined();
    expect(task.warnings).toEqual([expect.objectContaining({ file: 'solution/solve.sh', severity: 'warning' })]);
  });
});

describe('loadTask: checksum', () => {
  it('is the same for identical trees and changes with content, names and the execute bit', async () => {
    const a = await makeTask();
    const b = await makeTask();
    const checksumA = (await loadOk(a.dir)).checksum;
    expect((await loadOk(b.dir)).checksum).toBe(checksumA);

    await writeFile(join(b.dir, 'instruction.md'), 'Create hello.txt!\n');
    const changedContent = (await loadOk(b.dir)).checksum;
    expect(changedContent).not.toBe(checksumA);

    await writeFile(join(b.dir, 'instruction.md'), 'Create hello.txt.\n');
    expect((await loadOk(b.dir)).checksum).toBe(checksumA);

    await chmod(join(b.dir, 'tests', 'test.sh'), 0o644);
    expect((await loadOk(b.dir)).checksum).not.toBe(checksumA);
    await chmod(join(b.dir, 'tests', 'test.sh'), 0o700);
    expect((await loadOk(b.dir)).checksum).toBe(checksumA);

    await writeFile(join(b.dir, 'extra.txt'), '');
    expect((await loadOk(b.dir)).checksum).not.toBe(checksumA);
  });

  it('does not depend on where the task lives', async () => {
    const a = await makeTask({}, 'one');
    const b = await makeTask({}, 'two');
    expect((await loadOk(a.dir)).checksum).toBe((await loadOk(b.dir)).checksum);
  });
});

describe('loadTask: graders', () => {
  const deterministic = '[[graders]]\ntype = "deterministic"\nrun = "graders/checks.sh"\n';

  it('needs no tests/test.sh when no grader is the verifier', async () => {
    const { root, dir } = await makeTask({
      'task.toml': `version = "1.0"\n${deterministic}`,
      'tests/test.sh': undefined,
      'tests/graders/checks.sh': 'echo \'{"score": 1}\'\n',
    });
    const result = await loadTask(dir, { cwd: root });
    expect(result.ok).toBe(true);
  });

  it('still needs tests/test.sh when a grader is the verifier', async () => {
    const { root, dir } = await makeTask({
      'task.toml': `version = "1.0"\n[[graders]]\ntype = "verifier"\n${deterministic}`,
      'tests/test.sh': undefined,
      'tests/graders/checks.sh': 'echo \'{"score": 1}\'\n',
    });
    expect(await loadProblems(dir, root)).toEqual([
      expect.objectContaining({ file: 'demo_task/tests/test.sh', severity: 'error' }),
    ]);
  });

  it('reports a run or rubric file that is not under tests/', async () => {
    const { root, dir } = await makeTask({
      'task.toml': `version = "1.0"\n${deterministic}[[graders]]\ntype = "llm_rubric"\nrubric = "rubric.md"\n`,
      'rubric.md': 'outside tests/\n',
    });
    expect(await loadProblems(dir, root)).toEqual([
      {
        file: 'demo_task/task.toml',
        key: 'graders[0].run',
        message: 'tests/graders/checks.sh does not exist',
        expected: 'a file tests/graders/checks.sh',
        found: 'no such file',
        severity: 'error',
      },
      expect.objectContaining({ key: 'graders[1].rubric', message: 'tests/rubric.md does not exist' }),
    ]);
  });
});

describe('loadTask: problems', () => {
  it('reports a missing instruction.md', async () => {
    const { root, dir } = await makeTask({ 'instruction.md': undefined });
    const problems = await loadProblems(dir, root);
    expect(problems).toEqual([
      expect.objectContaining({ file: 'demo_task/instruction.md', severity: 'error', found: 'no such file' }),
    ]);
  });

  it('reports an empty instruction.md', async () => {
    const { root, dir } = await makeTask({ 'instruction.md': '  \n' });
    expect(await loadProblems(dir, root)).toEqual([
      expect.objectContaining({ file: 'demo_task/instruction.md', message: 'instruction.md is empty' }),
    ]);
  });

  it('reports a missing tests/test.sh, saying whether tests/ exists', async () => {
    const noTests = await makeTask({ 'tests/test.sh': undefined });
    expect(await loadProblems(noTests.dir, noTests.root)).toEqual([
      expect.objectContaining({ file: 'demo_task/tests/test.sh', severity: 'error', found: 'no tests/ directory' }),
    ]);
    const emptyTests = await makeTask({ 'tests/test.sh': undefined, 'tests/test_outputs.py': 'pass\n' });
    expect(await loadProblems(emptyTests.dir, emptyTests.root)).toEqual([
      expect.objectContaining({ found: 'tests/ without test.sh' }),
    ]);
  });

  it('reports a missing task.toml and still checks the rest', async () => {
    const { root, dir } = await makeTask({ 'task.toml': undefined, 'instruction.md': undefined });
    const problems = await loadProblems(dir, root);
    expect(problems.map((p) => p.file)).toEqual(['demo_task/task.toml', 'demo_task/instruction.md']);
  });

  it('reports a TOML syntax error and still checks the rest', async () => {
    const { root, dir } = await makeTask({ 'task.toml': 'version = "1.0"\n[agent\n', 'tests/test.sh': undefined });
    const problems = await loadProblems(dir, root);
    expect(problems.map((p) => [p.file, p.message.slice(0, 22)])).toEqual([
      ['demo_task/task.toml', 'TOML syntax error at l'],
      ['demo_task/tests/test.sh', 'missing tests/test.sh '],
    ]);
  });

  it('collects every problem across files', async () => {
    const { root, dir } = await makeTask({
      'task.toml': 'version = "1.0"\nextra = 1\n[environment]\ncpus = "two"\ngpus = -1\n',
      'instruction.md': undefined,
      'tests/test.sh': undefined,
      'skills/Bad/SKILL.md': '---\ndescription: ""\n---\n',
    });
    const problems = await loadProblems(dir, root);
    expect(problems.map((p) => [p.severity, p.file, p.key])).toEqual([
      ['error', 'demo_task/task.toml', 'environment.cpus'],
      ['error', 'demo_task/task.toml', 'environment.gpus'],
      ['warning', 'demo_task/task.toml', 'extra'],
      ['error', 'demo_task/instruction.md', undefined],
      ['error', 'demo_task/tests/test.sh', undefined],
      ['warning', 'demo_task/skills/Bad/SKILL.md', 'name'],
      ['error', 'demo_task/skills/Bad/SKILL.md', undefined],
      ['error', 'demo_task/skills/Bad/SKILL.md', 'description'],
    ]);
  });

  it('reports a directory that does not exist', async () => {
    const { root } = await makeTask();
    const result = await loadTask(join(root, 'nope'), { cwd: root });
    expect(result).toMatchObject({
      ok: false,
      problems: [{ file: 'nope', message: 'not a task directory', severity: 'error' }],
    });
  });

  it('reports a task path that is a symbolic link loop as one, not as missing', async () => {
    const { root } = await makeTask();
    await symlink(join(root, 'loop'), join(root, 'loop'));
    const result = await loadTask(join(root, 'loop'), { cwd: root });
    expect(result).toMatchObject({
      ok: false,
      problems: [{ file: 'loop', message: 'not a task directory', found: 'a symbolic link loop', severity: 'error' }],
    });
  });

  it('reports a task file that is a symbolic link loop as one', async () => {
    const { root, dir } = await makeTask({ 'instruction.md': undefined });
    await symlink(join(dir, 'instruction.md'), join(dir, 'instruction.md'));
    const result = await loadTask(dir, { cwd: root });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toContainEqual(
      expect.objectContaining({ message: 'is a symbolic link loop', found: 'a symbolic link loop', severity: 'error' }),
    );
  });

  it('names files relative to the cwd when inside it and absolute otherwise', async () => {
    const { root, dir } = await makeTask({ 'instruction.md': undefined });
    const inside = await loadProblems(dir, join(root, '..'));
    expect(inside[0]?.file).toBe(join(relative(join(root, '..'), dir), 'instruction.md'));
    const outside = await loadProblems(dir, join(dir, 'tests'));
    expect(outside[0]?.file).toBe(join(dir, 'instruction.md'));
  });

  it('loadTaskOrThrow throws TaskFormatError with every problem', async () => {
    const { dir } = await makeTask({ 'instruction.md': undefined, 'tests/test.sh': undefined });
    const error = await loadTaskOrThrow(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFormatError);
    expect((error as TaskFormatError).problems).toHaveLength(2);
  });
});
