import { availableParallelism } from 'node:os';
import type Docker from 'dockerode';
import pLimit from 'p-limit';
import { errorMessage, InfraError, InterruptedError } from '../errors.js';
import type { Task } from '../task/types.js';
import { reclaimDockerJob } from './cleanup.js';
import {
  checkDockerJob,
  checkRunscGateway,
  checkRuntime,
  dockerTaskProblems,
  withoutDockerHint,
} from './docker/checks.js';
import { type ContainerState, startContainer } from './docker/container.js';
import { createEngineClient, pingEngine } from './docker/engine.js';
import { type DockerHandle, prepareImage, type TaskImage } from './docker/images.js';
import { DEFAULT_PIDS_LIMIT, type EngineFacts, readEngineFacts } from './docker/limits.js';
import { removeLiveContainers } from './docker/live.js';
import { containerName } from './docker/names.js';
import { DockerWorkspace } from './docker/workspace.js';
import {
  type EnvironmentProvider,
  GATEWAY_ENV_DIR,
  type PrepareContext,
  type PreparedEnvironment,
  type Workspace,
  type WorkspaceContext,
} from './types.js';

export { homeFromPasswd, isRoot } from './docker/container.js';
export type { DockerHandle } from './docker/images.js';
export { installSignalCleanup, liveContainerNames, removeLiveContainers } from './docker/live.js';

/**
 * The Docker provider: one image per task (content-addressed, built once, reused across jobs; docker/images.ts),
 * one container per trial (docker/container.ts) used through exec and the archive API (docker/workspace.ts),
 * verified in one exec (docker/verify.ts). Everything it creates carries the `skill-eval=1` label; see
 * docs/docker.md.
 */

export interface DockerProviderOptions {
  /** An engine client; `DOCKER_HOST` or /var/run/docker.sock by default. */
  docker?: Docker | undefined;
  /** Rebuild every task image once in this provider's lifetime, bypassing the layer cache. */
  forceBuild?: boolean | undefined;
  pidsLimit?: number | undefined;
  /** Time between SIGTERM and SIGKILL when a command is stopped. */
  killGraceMs?: number | undefined;
  /** Network for RUN steps of builds (`host` where the bridge has no egress); `SKILL_EVAL_BUILD_NETWORK` by default. */
  buildNetwork?: string | undefined;
  /** Disconnect the container from every network in `stopAll()` (before the verifier runs); noted in the limits. */
  verifierOffline?: boolean | undefined;
  /**
   * Container creations/starts/removals at once, separate from the trial concurrency: the engine, not the agents,
   * is the bottleneck. Default: CPU cores + 1 (see defaultLifecycleConcurrency).
   */
  lifecycleConcurrency?: number | undefined;
  /**
   * Network mode for every trial container, replacing task.toml's policy (`eval --network`). Agent CLIs must
   * reach their model API: with `allow_internet = false` they cannot, unless this says otherwise.
   */
  networkOverride?: string | undefined;
  /** Engine runtime for every trial container (`eval --runtime=runsc`: gVisor); checked at preflight. */
  runtime?: string | undefined;
}

/**
 * The engine's container start/stop rate grows with parallel calls up to about the machine's cores and then
 * flattens (2 cores: 1.7 trials/s one at a time, ~3.4 at 4 or 8, bench/jobs/throughput.ts); more calls at once
 * only queue inside the daemon. Cores + 1 keeps it busy: a cap of 2 cost ~20 % of throughput at concurrency 4
 * here, 3 was within the noise of no cap.
 */
export function defaultLifecycleConcurrency(): number {
  return availableParallelism() + 1;
}

export function createDockerProvider(options: DockerProviderOptions = {}): EnvironmentProvider<DockerHandle> {
  const lifecycle = pLimit(Math.max(1, options.lifecycleConcurrency ?? defaultLifecycleConcurrency()));
  const docker = options.docker ?? createEngineClient();
  const killGraceMs = options.killGraceMs ?? 2_000;
  const buildNetwork = options.buildNetwork ?? process.env.SKILL_EVAL_BUILD_NETWORK ?? undefined;
  const containers = {
    docker,
    pidsLimit: options.pidsLimit ?? DEFAULT_PIDS_LIMIT,
    networkOverride: options.networkOverride,
    runtime: options.runtime,
  };
  const containerState: ContainerState = { storageRefused: false, homes: new Map() };
  // Each task's own image, once per provider (= per job) however many agents' layer stacks sit on it.
  const taskImages = new Map<string, Promise<TaskImage>>();
  let facts: Promise<EngineFacts> | undefined;
  /** Set by checkJob: the job's agents reach their model gateway through a mounted unix socket. */
  let gatewaySockets = false;

  const engineFacts = (): Promise<EngineFacts> => {
    facts ??= readEngineFacts(docker).catch((error: unknown) => {
      facts = undefined;
      throw new InfraError(`reading the engine's capabilities failed: ${errorMessage(error)}`, { cause: error });
    });
    return facts;
  };

  /** Create and start a trial's container (one engine lifecycle slot), as a workspace. */
  async function startWorkspace(
    task: Task,
    handle: DockerHandle,
    context: WorkspaceContext,
    engine: EngineFacts,
  ): Promise<Workspace> {
    const { container, limits, home } = await startContainer(containers, containerState, task, handle, context, engine);
    const id = containerName(context.jobId, context.trialId);
    return new DockerWorkspace(docker, container, id, handle.workdir, home, limits, {
      killGraceMs,
      verifierOffline: options.verifierOffline === true,
      lifecycle,
      imageUser: handle.imageUser,
      gatewayDir: context.gatewayDir ? GATEWAY_ENV_DIR : undefined,
    });
  }

  return {
    name: 'docker',
    usesImages: true,

    async preflight() {
      try {
        await pingEngine(docker);
        checkRuntime(options.runtime, await engineFacts());
        if (gatewaySockets) checkRunscGateway(options.runtime, await engineFacts());
      } catch (error) {
        throw error instanceof InfraError ? withoutDockerHint(error) : error;
      }
    },

    checkTask: (task: Task, checkOptions?: { cwd?: string | undefined }) => dockerTaskProblems(task, checkOptions),
    checkJob: (job) => {
      checkDockerJob(job, options.networkOverride);
      gatewaySockets = job.gateway === true && job.apiAgents.length > 0;
    },
    forceRemoveLive: (timeoutMs: number) => removeLiveContainers(timeoutMs),
    reclaimJob: (jobId: string) => reclaimDockerJob(jobId, docker),

    prepare(task: Task, context: PrepareContext): Promise<PreparedEnvironment<DockerHandle>> {
      const force = options.forceBuild === true || context.forceBuild;
      return prepareImage(task, context, { docker, force, buildNetwork }, taskImages);
    },

    async createWorkspace(prepared: PreparedEnvironment<DockerHandle>, context: WorkspaceContext): Promise<Workspace> {
      if (context.signal?.aborted) throw new InterruptedError('trial cancelled before its container was created');
      const engine = await engineFacts();
      return lifecycle(() => startWorkspace(prepared.task, prepared.handle, context, engine));
    },
  };
}
