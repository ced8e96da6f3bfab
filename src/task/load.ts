import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { errorMessage, TaskFormatError } from '../errors.js';
import { discoverSkills } from '../skills/discover.js';
import { directoryChecksum } from '../util/file-tree.js';
import { displayPath } from '../util/problems.js';
import { defaultTaskConfig, parseTaskToml } from './schema.js';
import type { Task, TaskConfig, TaskLoadResult } from './types.js';

export interface LoadTaskOptions {
  /** Base for the file names in problems (defaults to process.cwd()). */
  cwd?: string | undefined;
}

type Kind = 'file' | 'directory' | 'missing' | 'loop';

/** `loop`: a symbolic link that resolves to itself (ELOOP), reported as such rather than as missing. */
async function kindOf(path: string): Promise<Kind> {
  try {
    const stats = await stat(path);
    return stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'missing';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'loop' : 'missing';
  }
}

const FOUND: Record<Exclude<Kind, 'directory'>, string> = {
  file: 'a file',
  missing: 'no such directory',
  loop: 'a symbolic link loop',
};
const FOUND_IN_PLACE = { directory: 'a directory', loop: 'a symbolic link loop' } as const;

/**
 * Loads and validates a task directory. Never stops at the first problem: the result carries every error and
 * warning of task.toml, instruction.md, tests/, solution/ and the task's skills.
 */
export async function loadTask(dir: string, options: LoadTaskOptions = {}): Promise<TaskLoadResult> {
  const cwd = options.cwd ?? process.cwd();
  const root = resolve(cwd, dir);
  const show = (path: string): string => displayPath(path, cwd);
  const problems: Problem[] = [];
  const missing = (path: string, message: string, expected: string): void => {
    problems.push({ file: show(path), message, expected, found: 'no such file', severity: 'error' });
  };

  const rootKind = await kindOf(root);
  if (rootKind !== 'directory') {
    return {
      ok: false,
      dir: root,
      problems: [
        {
          file: show(root),
          message: 'not a task directory',
          expected: 'a directory with task.toml, instruction.md and tests/test.sh',
          found: FOUND[rootKind],
          severity: 'error',
        },
      ],
    };
  }

  const paths: Task['paths'] = {
    taskToml: join(root, 'task.toml'),
    instruction: join(root, 'instruction.md'),
    testsDir: join(root, 'tests'),
    testScript: join(root, 'tests', 'test.sh'),
  };

  // task.toml: without it (or when it is not TOML) the defaults stand in so the rest still gets checked.
  let config: TaskConfig = defaultTaskConfig();
  const tomlText = await readText(paths.taskToml, show, problems, () =>
    missing(
      paths.taskToml,
      'missing task.toml',
      'a task.toml with version = "1.0" (legacy) or schema_version = "1.1" (Harbor)',
    ),
  );
  if (tomlText !== undefined) {
    const parsed = parseTaskToml(tomlText, show(paths.taskToml));
    problems.push(...parsed.problems);
    if (parsed.config) config = parsed.config;
  }

  const instruction =
    (await readText(paths.instruction, show, problems, () =>
      missing(paths.instruction, 'missing instruction.md', 'the task instructions the agent receives, in Markdown'),
    )) ?? '';
  if ((await kindOf(paths.instruction)) === 'file' && instruction.trim() === '') {
    problems.push({
      file: show(paths.instruction),
      message: 'instruction.md is empty',
      expected: 'the task instructions the agent receives',
      found: 'an empty file',
      severity: 'error',
    });
  }

  const testScriptKind = await kindOf(paths.testScript);
  // With [[graders]] but no verifier among them, nothing runs tests/test.sh.
  const needsTestScript = config.graders === undefined || config.graders.some((g) => g.type === 'verifier');
  if (testScriptKind !== 'file' && (needsTestScript || testScriptKind !== 'missing')) {
    const testsDirExists = (await kindOf(paths.testsDir)) === 'directory';
    problems.push({
      file: show(paths.testScript),
      message: 'missing tests/test.sh (the verifier)',
      expected: 'a script that writes the reward to /logs/verifier/reward.txt or /logs/verifier/reward.json',
      found:
        testScriptKind === 'directory' || testScriptKind === 'loop'
          ? FOUND_IN_PLACE[testScriptKind]
          : testsDirExists
            ? 'tests/ without test.sh'
            : 'no tests/ directory',
      severity: 'error',
    });
  }

  problems.push(...(await graderFileProblems(config, paths.testsDir, show(paths.taskToml))));

  const solutionDir = join(root, 'solution');
  if ((await kindOf(join(solutionDir, 'solve.sh'))) === 'file') {
    paths.solutionDir = solutionDir;
  } else if ((await kindOf(solutionDir)) === 'directory') {
    problems.push({
      file: show(join(solutionDir, 'solve.sh')),
      message: 'solution/ has no solve.sh; the oracle agent cannot run this task',
      expected: 'solution/solve.sh',
      found: 'no such file',
      severity: 'warning',
    });
  }

  const environmentDir = join(root, 'environment');
  if ((await kindOf(environmentDir)) === 'directory') {
    paths.environmentDir = environmentDir;
    const dockerfile = join(environmentDir, 'Dockerfile');
    if ((await kindOf(dockerfile)) === 'file') paths.dockerfile = dockerfile;
  }

  const discovered = await discoverSkills(root, { cwd });
  problems.push(...discovered.problems);

  if (problems.some((p) => p.severity === 'error')) return { ok: false, dir: root, problems };

  const task: Task = {
    name: basename(root),
    dir: root,
    instruction,
    config,
    paths,
    skills: discovered.skills,
    checksum: await directoryChecksum(root),
    warnings: problems,
  };
  return { ok: true, task };
}

/** Each grader's `run` / `rubric` must be a file under tests/ (the only place that reaches verification). */
async function graderFileProblems(config: TaskConfig, testsDir: string, file: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [index, grader] of (config.graders ?? []).entries()) {
    const key = grader.type === 'deterministic' ? 'run' : grader.type === 'llm_rubric' ? 'rubric' : undefined;
    const relative = key === 'run' ? grader.run : key === 'rubric' ? grader.rubric : undefined;
    if (key === undefined || relative === undefined) continue;
    const kind = await kindOf(join(testsDir, relative));
    if (kind === 'file') continue;
    problems.push({
      file,
      key: `graders[${index}].${key}`,
      message: `tests/${relative} does not exist`,
      expected: `a file tests/${relative}`,
      found: kind === 'missing' ? 'no such file' : FOUND_IN_PLACE[kind],
      severity: 'error',
    });
  }
  return problems;
}

/** Reads a UTF-8 file; calls `onMissing` when it does not exist and records an error when it cannot be read. */
async function readText(
  path: string,
  show: (path: string) => string,
  problems: Problem[],
  onMissing: () => void,
): Promise<string | undefined> {
  const kind = await kindOf(path);
  if (kind === 'missing') {
    onMissing();
    return undefined;
  }
  if (kind === 'directory' || kind === 'loop') {
    problems.push({
      file: show(path),
      message: `is ${FOUND_IN_PLACE[kind]}`,
      expected: 'a file',
      found: FOUND_IN_PLACE[kind],
      severity: 'error',
    });
    return undefined;
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    problems.push({ file: show(path), message: `cannot read: ${errorMessage(error)}`, severity: 'error' });
    return undefined;
  }
}

/** Loads a task or throws TaskFormatError with every problem: for commands that need a runnable task. */
export async function loadTaskOrThrow(dir: string, options: LoadTaskOptions = {}): Promise<Task> {
  const result = await loadTask(dir, options);
  if (!result.ok)
    throw new TaskFormatError(result.problems, { hint: 'run `skill-eval tasks validate <task>` to see every problem' });
  return result.task;
}
