import type { Arm } from '../agents/types.js';
import { armSpec } from '../arms/spec.js';
import type { EnvironmentProvider } from '../environments/types.js';
import { formatProblem, type Problem, TaskFormatError } from '../errors.js';
import { evalYamlExpander } from '../evalyaml/expand.js';
import { withFlagSkills } from '../skills/sources.js';
import type { Skill } from '../skills/types.js';
import { loadTask } from '../task/load.js';
import { expandTaskSpecs } from '../task/resolve.js';
import type { Task } from '../task/types.js';

/** Something planning wants the user to know; `error` lines are shown even when quiet. */
export interface EvalNotice {
  level: 'error' | 'warning' | 'note';
  message: string;
}

/** A task that cannot run: invalid, or missing what the provider needs. */
export interface BrokenTask {
  dir: string;
  problems: Problem[];
}

export interface EvalTasks {
  tasks: Task[];
  brokenTasks: BrokenTask[];
}

function withAddedSkills(task: Task, added: readonly Skill[], notify: (notice: EvalNotice) => void): Task {
  if (added.length === 0) return task;
  for (const own of task.skills.filter((s) => added.some((a) => a.name === s.name)))
    notify({ level: 'note', message: `${task.name}: --skill ${own.name} replaces the task's own skill ${own.name}` });
  return { ...task, skills: withFlagSkills(task.skills, added) };
}

/**
 * Loads every task the specs name and checks it against the provider. A broken task is reported and left out, so
 * the others still run; none runnable is a TaskFormatError.
 */
export async function loadEvalTasks(
  specs: readonly string[],
  options: {
    cwd: string;
    tasksDir?: string | undefined;
    /** Where eval.yaml specs are converted to (`<results-dir>/.converted/`); without it they are a usage error. */
    resultsDir?: string | undefined;
    provider: EnvironmentProvider;
    arms: readonly Arm[];
    /** `--skill` skills: added to every task's skills (the with-skills arm's), replacing same-named ones. */
    addedSkills?: readonly Skill[] | undefined;
    notify: (notice: EvalNotice) => void;
  },
): Promise<EvalTasks> {
  const { cwd, provider, notify } = options;
  const tasks: Task[] = [];
  const brokenTasks: BrokenTask[] = [];
  const evalYaml =
    options.resultsDir === undefined
      ? undefined
      : evalYamlExpander({
          cwd,
          resultsDir: options.resultsDir,
          onBroken: (dir, problems) => {
            brokenTasks.push({ dir, problems });
            for (const problem of problems) notify({ level: 'error', message: formatProblem(problem) });
          },
          onWarning: (problem) => notify({ level: 'warning', message: formatProblem(problem) }),
        });
  const dirs = await expandTaskSpecs(specs.length > 0 ? specs : ['superlint_demo'], {
    cwd,
    tasksDir: options.tasksDir,
    evalYaml,
  });
  for (const dir of dirs) {
    const loaded = await loadTask(dir);
    const problems = loaded.ok ? (provider.checkTask?.(loaded.task, { cwd }) ?? []) : loaded.problems;
    const errors = problems.filter((p) => p.severity === 'error');
    if (!loaded.ok || errors.length > 0) {
      brokenTasks.push({ dir, problems: errors });
      for (const problem of errors) notify({ level: 'error', message: formatProblem(problem) });
      continue;
    }
    for (const warning of loaded.task.warnings) notify({ level: 'warning', message: formatProblem(warning) });
    tasks.push(withAddedSkills(loaded.task, options.addedSkills ?? [], notify));
  }
  if (tasks.length === 0)
    throw new TaskFormatError([], {
      hint: `no runnable task among: ${[...new Set([...dirs, ...brokenTasks.map((t) => t.dir)])].join(', ')}`,
    });
  // The arms that give the task's own skills (placed, or as prompt text) equal the baseline without any.
  const given = options.arms.filter((arm) => ['with-skills', 'skill-as-prompt'].includes(armSpec(arm)?.kind ?? ''));
  for (const arm of given.filter((a) => !armSpec(a)?.replica))
    for (const task of tasks.filter((t) => t.skills.length === 0))
      notify({ level: 'warning', message: `${task.name} has no skills: its ${arm} arm equals the baseline` });
  return { tasks, brokenTasks };
}
