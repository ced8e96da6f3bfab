import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatValidationReport, tasksCommand } from '../../src/cli/tasks.js';
import { createProvider } from '../../src/environments/registry.js';
import { formatProblem, type Problem } from '../../src/errors.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { type ValidationReport, validateTasks } from '../../src/task/validate.js';
import { HEALTHY_TASK, tempDir, writeTree } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/tasks-mixed', import.meta.url));
const HEALTHY = ['hello_harbor', 'hello_legacy', 'minimal', 'skillsbench_layout', 'with_skill'];
const BROKEN = [
  'bad_skill_frontmatter',
  'bad_toml_syntax',
  'missing_instruction',
  'missing_test_script',
  'wrong_type_cpus',
];

/** Runs the CLI in-process, capturing what it prints. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await main(['node', 'skill-eval', ...args]);
    return { code, stdout: out.join('\n'), stderr: err.join('') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('validateTasks on tests/fixtures/tasks-mixed', () => {
  it('reports the 5 healthy tasks ok and each of the 5 broken ones with file and key', async () => {
    const report = await validateTasks([FIXTURE], { cwd: FIXTURE });
    expect(report.summary).toEqual({ tasks: 10, ok: 5, withErrors: 5, warnings: 0 });
    expect(report.tasks.filter((t) => t.ok).map((t) => t.name)).toEqual(HEALTHY);
    expect(report.tasks.filter((t) => !t.ok).map((t) => t.name)).toEqual(BROKEN);

    const problemsOf = (name: string) => report.tasks.find((t) => t.name === name)?.problems ?? [];
    expect(problemsOf('bad_toml_syntax')).toEqual([
      expect.objectContaining({
        file: 'bad_toml_syntax/task.toml',
        message: expect.stringMatching(/^TOML syntax error at line 4, column \d+/),
      }),
    ]);
    expect(problemsOf('wrong_type_cpus')).toEqual([
      expect.objectContaining({
        file: 'wrong_type_cpus/task.toml',
        key: 'environment.cpus',
        expected: 'a positive number',
        found: '"two" (string)',
      }),
    ]);
    expect(problemsOf('missing_test_script')).toEqual([
      expect.objectContaining({ file: 'missing_test_script/tests/test.sh' }),
    ]);
    expect(problemsOf('missing_instruction')).toEqual([
      expect.objectContaining({ file: 'missing_instruction/instruction.md' }),
    ]);
    expect(problemsOf('bad_skill_frontmatter')).toEqual([
      expect.objectContaining({
        file: 'bad_skill_frontmatter/skills/broken-skill/SKILL.md',
        message: expect.stringContaining('invalid YAML frontmatter at line 3'),
      }),
    ]);
    expect(report.tasks.every((t) => t.dir === join(FIXTURE, t.name) && t.path === t.name)).toBe(true);
  });

  it('reports a subfolder without task.toml that looks like a task', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    await writeTree(join(tmp.path, 'suite', 'good'), HEALTHY_TASK);
    await writeTree(join(tmp.path, 'suite', 'no_toml'), { 'instruction.md': 'Do it.\n', 'tests/test.sh': 'exit 0\n' });
    await writeTree(join(tmp.path, 'suite', 'only_tests'), { 'tests/test.sh': 'exit 0\n' });
    await writeTree(join(tmp.path, 'suite', 'docs'), { 'README.md': 'not a task\n' });
    const report = await validateTasks(['suite'], { cwd: tmp.path });
    expect(report.tasks.map((t) => [t.name, t.ok])).toEqual([
      ['good', true],
      ['no_toml', false],
      ['only_tests', false],
    ]);
    expect(report.tasks[1]?.problems).toEqual([
      expect.objectContaining({ file: 'suite/no_toml/task.toml', message: 'missing task.toml' }),
    ]);
  });

  it("adds the provider's problems as errors, asking it with the caller's cwd", async () => {
    const seen: string[] = [];
    const provider = {
      checkTask: (task: Task, options?: { cwd?: string | undefined }): Problem[] => {
        seen.push(`${task.name}@${options?.cwd}`);
        return task.name === 'minimal' ? [{ file: 'minimal/x', message: 'needs x', severity: 'error' }] : [];
      },
    };
    const report = await validateTasks([join(FIXTURE, 'minimal'), join(FIXTURE, 'hello_harbor')], {
      cwd: FIXTURE,
      provider,
    });
    expect(seen.sort()).toEqual([`hello_harbor@${FIXTURE}`, `minimal@${FIXTURE}`]);
    expect(report.tasks.map((t) => [t.name, t.ok])).toEqual([
      ['minimal', false],
      ['hello_harbor', true],
    ]);
    expect(report.tasks[0]?.problems).toEqual([{ file: 'minimal/x', message: 'needs x', severity: 'error' }]);
  });

  it('asks nothing more of a task for the local provider', async () => {
    const report = await validateTasks([join(FIXTURE, 'minimal')], {
      cwd: FIXTURE,
      provider: await createProvider('local'),
    });
    expect(report.tasks[0]?.ok).toBe(true);
  });

  it('checks what the docker provider needs: an environment/Dockerfile or a docker_image', async () => {
    const report = await validateTasks([join(FIXTURE, 'minimal'), join(FIXTURE, 'hello_harbor')], {
      cwd: FIXTURE,
      provider: await createProvider('docker'),
    });
    expect(report.tasks.map((t) => [t.name, t.ok])).toEqual([
      ['minimal', false],
      ['hello_harbor', true],
    ]);
    expect(report.tasks[0]?.problems).toEqual([
      expect.objectContaining({
        file: 'minimal/environment/Dockerfile',
        severity: 'error',
        found: 'no environment/ directory and no docker_image',
      }),
    ]);
  });
});

describe('skill-eval tasks validate', () => {
  it('prints every problem grouped per task, a summary, and exits 2', async () => {
    const { code, stdout } = await runCli(['tasks', 'validate', FIXTURE]);
    expect(code).toBe(2);
    expect(stdout).toContain('10 tasks: 5 ok, 5 with errors');
    const report = await validateTasks([FIXTURE], { cwd: process.cwd() });
    for (const task of report.tasks) {
      const header = stdout.split('\n').findIndex((line) => line.startsWith(`${task.path}: `));
      expect(header).toBeGreaterThanOrEqual(0);
      for (const problem of task.problems) {
        // Each problem sits under its own task's header.
        const line = stdout.split('\n').indexOf(`  error: ${formatProblem(problem)}`);
        expect(line).toBeGreaterThan(header);
        expect(line).toBeLessThanOrEqual(header + task.problems.length);
      }
    }
    expect(stdout).toMatch(
      /wrong_type_cpus\/task\.toml: environment\.cpus: invalid value; expected a positive number; found "two" \(string\)/,
    );
    expect(stdout).toMatch(/missing_test_script\/tests\/test\.sh: /);
    expect(stdout).toMatch(/missing_instruction\/instruction\.md: /);
    expect(stdout).toMatch(/bad_toml_syntax\/task\.toml: TOML syntax error at line 4/);
    expect(stdout).toMatch(/bad_skill_frontmatter\/skills\/broken-skill\/SKILL\.md: invalid YAML frontmatter/);
  });

  it('prints a machine-readable report with --json', async () => {
    const { code, stdout } = await runCli(['tasks', 'validate', '--json', FIXTURE]);
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as ValidationReport;
    expect(report.schema).toBe('skill-eval/task-validation@1');
    expect(report.summary).toEqual({ tasks: 10, ok: 5, withErrors: 5, warnings: 0 });
    expect(report.tasks.find((t) => t.name === 'wrong_type_cpus')?.problems[0]?.key).toBe('environment.cpus');
  });

  it('exits 0 when every task is valid, and prints warnings', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    await writeTree(join(tmp.path, 'ok_task'), { ...HEALTHY_TASK, 'task.toml': 'version = "1.0"\nsurprise = 1\n' });
    const { code, stdout } = await runCli(['tasks', 'validate', join(tmp.path, 'ok_task')]);
    expect(code).toBe(0);
    expect(stdout).toContain('ok, 1 warning');
    expect(stdout).toContain('  warning: ');
    expect(stdout).toContain('surprise: unknown key');
    expect(stdout).toContain('1 task: 1 ok, 0 with errors, 1 warning');
  });

  it('loads a skill whose description is over the spec limit, with a warning naming the limit (exit 0)', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    const description = `Use for PDFs. ${'Long guidance. '.repeat(80)}`.trim();
    await writeTree(join(tmp.path, 'long_skill'), {
      ...HEALTHY_TASK,
      'skills/pdf-tools/SKILL.md': `---\nname: pdf-tools\ndescription: ${description}\n---\n# PDF\n`,
    });
    const { code, stdout } = await runCli(['tasks', 'validate', join(tmp.path, 'long_skill')]);
    expect(code).toBe(0);
    expect(stdout).toContain('1 task: 1 ok, 0 with errors, 1 warning');
    expect(stdout).toContain(`description: longer than the Agent Skills spec allows (1024 characters)`);
    expect(stdout).toContain(`found ${description.length} characters`);
    const task = await loadTaskOrThrow(join(tmp.path, 'long_skill'));
    expect(task.skills.map((skill) => [skill.name, skill.description.length])).toEqual([
      ['pdf-tools', description.length],
    ]);
  });

  it('exits 2 naming a symbolic link loop given as the task path', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    await symlink(join(tmp.path, 'loop'), join(tmp.path, 'loop'));
    const { code, stderr } = await runCli(['tasks', 'validate', join(tmp.path, 'loop')]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${join(tmp.path, 'loop')}: expected a task directory; found a symbolic link loop`);
    expect(stderr).not.toContain('no such task directory');
  });

  it('defaults to ./tasks', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    await writeTree(join(tmp.path, 'tasks', 'only'), HEALTHY_TASK);
    const previous = process.cwd();
    process.chdir(tmp.path);
    try {
      const { code, stdout } = await runCli(['tasks', 'validate']);
      expect(code).toBe(0);
      expect(stdout).toContain('tasks/only: ok');
      expect(stdout).toContain('1 task: 1 ok, 0 with errors');
    } finally {
      process.chdir(previous);
    }
  });

  it('exits 2 with a usage error for an unknown task', async () => {
    const { code, stderr } = await runCli(['tasks', 'validate', '--tasks-dir', FIXTURE, 'no_such_task']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown task "no_such_task"');
  });

  it('exits 2 naming the known providers for an unknown --provider', async () => {
    const { code, stderr } = await runCli(['tasks', 'validate', '--provider', 'cloud', join(FIXTURE, 'minimal')]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown provider "cloud"');
    expect(stderr).toContain('known providers: local, docker');
  });

  it('resolves names and prefixes against --tasks-dir', async () => {
    const { code, stdout } = await runCli(['tasks', 'validate', '--tasks-dir', FIXTURE, 'hello_l', 'wrong_type']);
    expect(code).toBe(2);
    expect(stdout).toContain('2 tasks: 1 ok, 1 with errors');
  });
});

describe('tasks command group', () => {
  it('is created once so siblings can add subcommands', () => {
    const program = new Command('x');
    const first = tasksCommand(program);
    expect(tasksCommand(program)).toBe(first);
    expect(program.commands.filter((c) => c.name() === 'tasks')).toHaveLength(1);
  });

  it('formats an empty report', () => {
    expect(
      formatValidationReport({
        schema: 'skill-eval/task-validation@1',
        tasks: [],
        summary: { tasks: 0, ok: 0, withErrors: 0, warnings: 0 },
      }),
    ).toBe('\n0 tasks: 0 ok, 0 with errors');
  });
});
