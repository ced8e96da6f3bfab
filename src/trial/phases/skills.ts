import { join, posix } from 'node:path';
import type { Agent } from '../../agents/types.js';
import type { Workspace } from '../../environments/types.js';
import { InfraError, InterruptedError } from '../../errors.js';
import type { Skill } from '../../skills/types.js';
import type { Task } from '../../task/types.js';

/** Every folder this agent discovers skills in: relative to the workdir, `~/…` to HOME, absolute as they are. */
export function skillTargets(agent: Agent, task: Task, workspace: Workspace): string[] {
  const dirs = [...agent.skillDirs];
  if (task.config.environment.skillsDir) dirs.push(task.config.environment.skillsDir);
  const targets = dirs.map((dir) => {
    if (dir.startsWith('~/')) return join(workspace.paths.home, dir.slice(2));
    if (dir.startsWith('/')) return dir;
    return join(workspace.paths.workdir, dir);
  });
  return [...new Set(targets)];
}

/**
 * skills (with-skills arm only): every skill into every target folder. A skill that cannot be placed ends the
 * trial as an infrastructure error naming the skill and the target — never a skipped skill in a with-skills
 * trial that would then measure the baseline under the with-skills name.
 */
export async function injectSkills(workspace: Workspace, skills: readonly Skill[], targets: string[]): Promise<void> {
  for (const target of targets)
    for (const skill of skills) {
      const envPath = posix.join(target, skill.name);
      try {
        await workspace.upload(skill.dir, envPath);
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
        // The trial's error message adds the cause's (src/trial/status.ts).
        throw new InfraError(`skill ${skill.name} could not be injected into ${envPath} from ${skill.dir}`, {
          cause: error,
          // An engine hiccup may pass; a missing source folder or an unwritable target will not.
          retryable: error instanceof InfraError && error.retryable,
        });
      }
    }
}

/** The reference solution, for the agents that replay it (the oracle); nobody else ever sees it. */
export async function uploadSolution(agent: Agent, task: Task, workspace: Workspace): Promise<void> {
  if (agent.usesSolution && task.paths.solutionDir)
    await workspace.upload(task.paths.solutionDir, workspace.paths.solution);
}
