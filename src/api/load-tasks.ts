import { loadTask } from '../task/load.js';
import { expandTaskSpecs } from '../task/resolve.js';
import type { TaskLoadResult } from '../task/types.js';

export interface LoadTasksOptions {
  /** Base for relative specs and for the file names in problems; process.cwd() by default. */
  cwd?: string | undefined;
  /** Where task names are looked up; `<cwd>/tasks` by default. */
  tasksDir?: string | undefined;
}

/**
 * Every task the specs name (task dirs, names or unique prefixes, folders of tasks, globs, suite files), each
 * loaded and validated: a task, or every problem found in it. Never throws for a broken task; an unknown or
 * ambiguous spec is a UsageError.
 */
export async function loadTasks(specs: readonly string[], options: LoadTasksOptions = {}): Promise<TaskLoadResult[]> {
  const cwd = options.cwd ?? process.cwd();
  const dirs = await expandTaskSpecs(specs, { cwd, tasksDir: options.tasksDir });
  const results: TaskLoadResult[] = [];
  for (const dir of dirs) results.push(await loadTask(dir, { cwd }));
  return results;
}
