import { basename } from 'node:path';
import pLimit from 'p-limit';
import type { Problem } from '../errors.js';
import { displayPath } from '../util/problems.js';
import { loadTask } from './load.js';
import { expandTaskSpecs } from './resolve.js';
import type { Task } from './types.js';

export interface TaskValidation {
  /** Folder name. */
  name: string;
  /** Absolute path. */
  dir: string;
  /** The directory as shown to the user (relative to cwd when inside it). */
  path: string;
  /** No errors (warnings allowed). */
  ok: boolean;
  /** Errors. */
  problems: Problem[];
  warnings: Problem[];
}

export interface ValidationReport {
  schema: 'skill-eval/task-validation@1';
  tasks: TaskValidation[];
  summary: { tasks: number; ok: number; withErrors: number; warnings: number };
}

/**
 * What an environment provider adds to task validation (an EnvironmentProvider is one; declared here so task/
 * does not depend on environments/).
 */
export interface TaskChecker {
  checkTask?(task: Task, options?: { cwd?: string | undefined }): Problem[];
}

export interface ValidateOptions {
  cwd: string;
  tasksDir?: string | undefined;
  /** Also check what this provider needs (Docker: an environment); `createProvider(name)` makes one. */
  provider?: TaskChecker | undefined;
}

/** Loading is mostly file reads; a few at a time keeps big suites quick without hogging shared cores. */
const CONCURRENCY = 4;

/**
 * Validates every task the specs name. A folder means each task dir in it, including folders that are meant to
 * be tasks but lack task.toml, so those are reported rather than skipped.
 */
export async function validateTasks(specs: readonly string[], options: ValidateOptions): Promise<ValidationReport> {
  const dirs = await expandTaskSpecs(specs, options);
  const limit = pLimit(CONCURRENCY);
  const tasks = await Promise.all(dirs.map((dir) => limit(() => validateOne(dir, options))));
  return {
    schema: 'skill-eval/task-validation@1',
    tasks,
    summary: {
      tasks: tasks.length,
      ok: tasks.filter((t) => t.ok).length,
      withErrors: tasks.filter((t) => !t.ok).length,
      warnings: tasks.reduce((sum, t) => sum + t.warnings.length, 0),
    },
  };
}

async function validateOne(dir: string, options: ValidateOptions): Promise<TaskValidation> {
  const result = await loadTask(dir, { cwd: options.cwd });
  const all = result.ok ? [...result.task.warnings] : result.problems;
  if (result.ok) all.push(...(options.provider?.checkTask?.(result.task, { cwd: options.cwd }) ?? []));
  const problems = all.filter((p) => p.severity === 'error');
  return {
    name: basename(dir),
    dir,
    path: displayPath(dir, options.cwd),
    ok: problems.length === 0,
    problems,
    warnings: all.filter((p) => p.severity === 'warning'),
  };
}
