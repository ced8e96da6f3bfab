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
 * An agent that calls a model API cannot work in a container without network unless it goes through the trial's
 * model gateway (a unix socket mounted into the container, no network needed): without the gateway, refuse the job
 * before any trial, unless the network is overridden for every trial (`--network`).
 */
export function checkDockerJob(job: JobRequirements, networkOverride: string | undefined): void {
  if (job.apiAgents.length === 0 || job.gateway || networkOverride !== undefined) return;
  const offline = job.tasks.filter(isOffline).map((t) => t.name);
  if (offline.length === 0) return;
  throw new UsageError(
    `${offline.join(', ')} ${offline.length === 1 ? 'has' : 'have'} no network (allow_internet = false), so ${job.apiAgents.join(', ')} cannot reach its model API inside the container without the model gateway (--no-gateway)`,
    {
      hint: 'drop --no-gateway (the gateway needs no network), allow the network for this run with --network=bridge (or --network=host to reach an endpoint on this machine), or set allow_internet = true in task.toml',
    },
  );
}

/**
 * gVisor refuses connections to a host unix socket mounted into the container unless runsc runs with
 * `--host-uds=open` (or `all`): a job whose API agents reach the model gateway that way needs it.
 */
export function checkRunscGateway(runtime: string | undefined, engine: Pick<EngineFacts, 'runtimeArgs'>): void {
  if (runtime !== 'runsc') return;
  const args = engine.runtimeArgs[runtime] ?? [];
  if (args.some((arg) => /^--host-uds=(open|all)$/.test(arg))) return;
  throw new UsageError(
    '--runtime=runsc: the agents reach the model gateway through a mounted unix socket, which gVisor refuses unless runsc runs with --host-uds=open',
    {
      hint: 'add "--host-uds=open" to the runsc "runtimeArgs" in /etc/docker/daemon.json and reload dockerd (docs/docker.md#gvisor), or run with --no-gateway --network=bridge (the key then enters the sandbox)',
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
