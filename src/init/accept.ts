import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatProblem } from '../errors.js';
import { checkTasks } from '../jobs/check-tasks.js';
import type { EvalNotice } from '../jobs/eval-tasks.js';
import { loadTask } from '../task/load.js';
import { removeTree } from '../util/remove-tree.js';

/**
 * Every drafted task is checked at once — `tasks validate` clean, an environment and a solution, an instruction
 * that does not name the skill, then the oracle must pass and nop must fail (`tasks check`'s code) — and goes to
 * `<evals>/<name>/` when it passes everything, to `<evals>/.rejected/<name>/` with a REJECTED.md saying which
 * check failed and why otherwise. Hidden, `.rejected/` is never taken for a task folder by `eval` or `tasks`.
 */

export const REJECTED_DIR = '.rejected';

/** A task folder name that is also a valid task name on the command line. */
const TASK_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface DraftVerdict {
  name: string;
  /** Where the task is now. */
  dir: string;
  kept: boolean;
  /** `check: why`, one per failed check. */
  reasons: string[];
}

export interface AcceptOptions {
  draftsDir: string;
  evalsDir: string;
  skillName: string;
  /** Where the oracle/nop check runs: `local` (default) or `docker`. */
  provider: string;
  /** Where the check's job goes. */
  resultsDir: string;
  concurrency: number;
  cwd: string;
  signal?: AbortSignal | undefined;
  onNotice?: ((notice: EvalNotice) => void) | undefined;
}

async function draftNames(draftsDir: string): Promise<string[]> {
  const entries = await readdir(draftsDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

function namesSkill(instruction: string, skill: string): boolean {
  const escaped = skill.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9-])${escaped}($|[^a-z0-9-])`, 'i').test(instruction);
}

/** The checks that need no trial: the format, an environment, a solution, an instruction that hides the skill. */
async function staticReasons(dir: string, name: string, skill: string, cwd: string): Promise<string[]> {
  if (!TASK_NAME.test(name))
    return [`name: "${name}" is not a task name (lowercase letters, digits, "-" and "_", at most 64)`];
  const loaded = await loadTask(dir, { cwd });
  if (!loaded.ok)
    return loaded.problems.filter((p) => p.severity === 'error').map((p) => `tasks validate: ${formatProblem(p)}`);
  const { task } = loaded;
  const reasons: string[] = [];
  if (!task.paths.dockerfile && !task.config.environment.dockerImage)
    reasons.push('environment: no environment/Dockerfile (or [environment].docker_image)');
  if (!task.paths.solutionDir) reasons.push('solution: no solution/solve.sh');
  if (namesSkill(await readFile(task.paths.instruction, 'utf8'), skill))
    reasons.push(
      `instruction: instruction.md names the skill "${skill}": the evaluation measures whether the agent finds it by itself`,
    );
  return reasons;
}

/** Checks every draft, then moves it to its place. Returns one verdict per drafted folder, in name order. */
export async function acceptDrafts(options: AcceptOptions): Promise<DraftVerdict[]> {
  const names = await draftNames(options.draftsDir);
  const reasons = new Map<string, string[]>();
  for (const name of names)
    reasons.set(name, await staticReasons(join(options.draftsDir, name), name, options.skillName, options.cwd));
  const runnable = names.filter((name) => reasons.get(name)!.length === 0);
  if (runnable.length > 0) {
    const outcome = await checkTasks(
      {
        tasks: runnable.map((name) => join(options.draftsDir, name)),
        provider: options.provider,
        trials: 1,
        concurrency: options.concurrency,
        resultsDir: options.resultsDir,
      },
      options.cwd,
      { signal: options.signal, onNotice: options.onNotice },
    );
    for (const check of outcome.checks)
      if (!check.ok) reasons.get(check.task)?.push(...check.problems.map((p) => `tasks check: ${p}`));
    for (const name of runnable)
      if (!outcome.checks.some((c) => c.task === name)) reasons.get(name)?.push('tasks check: the task did not run');
  }
  const verdicts: DraftVerdict[] = [];
  for (const name of names) verdicts.push(await place(name, reasons.get(name)!, options));
  return verdicts;
}

async function place(name: string, reasons: string[], options: AcceptOptions): Promise<DraftVerdict> {
  const kept = reasons.length === 0;
  const target = kept ? join(options.evalsDir, name) : join(options.evalsDir, REJECTED_DIR, name);
  await removeTree(target);
  await mkdir(join(target, '..'), { recursive: true });
  await cp(join(options.draftsDir, name), target, { recursive: true, verbatimSymlinks: true });
  if (!kept)
    await writeFile(
      join(target, 'REJECTED.md'),
      `# ${name}: rejected by skill-eval init\n\n${reasons.map((r) => `- ${r}`).join('\n')}\n\nFix the task, then move it next to the others (\`mv ${REJECTED_DIR}/${name} .\` in ${options.evalsDir}) and run \`skill-eval tasks check\` on it.\n`,
    );
  return { name, dir: target, kept, reasons };
}
