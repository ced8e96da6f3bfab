import { join } from 'node:path';
import { InfraError, type Problem, UsageError } from '../../errors.js';
import type { Task } from '../../task/types.js';
import { displayPath } from '../../util/problems.js';
import type { JobRequirements } from '../types.js';
import type { EngineFacts } from './limits.js';

/**
 * What the Docker provider asks of a task and of a job before any trial (EnvironmentProvider.checkTask, checkJob),
 * and the way out it offers when the engine is missing. Pure: no engine call.
 */

/** A task runs in Docker only with an environment to build (environment/Dockerfile) or use ([environment].docker_image). */
export function dockerTaskProblems(task: Task, options: { cwd?: string | undefined } = {}): Problem[] {
  if (task.paths.dockerfile !== undefined || task.config.environment.dockerImage !== undefined) return [];
  return [
    {
      file: displayPath(join(task.dir, 'environment', 'Dockerfile'), options.cwd),
      message: 'the docker provider needs an environment for this task',
      expected: 'environment/Dockerfile, or [environment].docker_image in task.toml',
      found:
        task.paths.environmentDir === undefined
          ? 'no environment/ directory and no docker_image'
          : 'environment/ without a Dockerfile, and no docker_image',
      severity: 'error',
    },
  ];
}

/** Whether a task's containers get no network (task.toml's policy, before any `--network` override). */
export function isOffline(task: Task): boolean {
  return !task.config.environment.allowInternet || task.config.environment.networkMode === 'none';
}

/**
 * An agent that calls a model API cannot work in a container without network: refuse the job before any trial,
 * unless the network is overridden for every trial (`--network`).
 */
export function checkDockerJob(job: JobRequirements, networkOverride: string | undefined): void {
  if (networkOverride !== undefined || job.apiAgents.length === 0) return;
  const offline = job.tasks.filter(isOffline).map((t) => t.name);
  if (offline.length === 0) return;
  throw new UsageError(
    `${offline.join(', ')} ${offline.length === 1 ? 'has' : 'have'} no network (allow_internet = false), so ${job.apiAgents.join(', ')} cannot reach its model API inside the container`,
    {
      hint: 'allow it for this run with --network=bridge (or --network=host to reach an endpoint on this machine), or set allow_internet = true in task.toml',
    },
  );
}

/** `--runtime NAME` names a runtime the engine has registered (gVisor's `runsc` needs registering first). */
export function checkRuntime(runtime: string | undefined, engine: Pick<EngineFacts, 'runtimes'>): void {
  if (runtime === undefined || engine.runtimes.includes(runtime)) return;
  throw new UsageError(
    `--runtime ${runtime}: the Docker engine has no runtime "${runtime}" (it has: ${engine.runtimes.join(', ') || 'none listed'})`,
    {
      hint:
        runtime === 'runsc'
          ? "register gVisor with the engine: sudo bash scripts/setup/gvisor.sh (installs Debian's runsc, adds it to /etc/docker/daemon.json, reloads dockerd; docs/docker.md#gvisor)"
          : 'register it in /etc/docker/daemon.json under "runtimes" and reload dockerd (kill -HUP)',
    },
  );
}

export const WITHOUT_DOCKER_HINT = 'or run without Docker: add --provider=local';

/** A preflight failure, with the way out that needs no engine added to its hint. */
export function withoutDockerHint(error: InfraError): InfraError {
  return new InfraError(error.message, {
    cause: error,
    hint: `${error.hint ?? ''}\n${WITHOUT_DOCKER_HINT}`.trim(),
    retryable: error.retryable,
  });
}
