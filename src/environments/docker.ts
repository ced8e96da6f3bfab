import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import pLimit, { type LimitFunction } from 'p-limit';
import { errorMessage, InfraError, InterruptedError, TaskFormatError } from '../errors.js';
import { checkTaskForProvider } from '../task/load.js';
import type { Task } from '../task/types.js';
import {
  checkUpload,
  downloadPath,
  type PendingUpload,
  packUploads,
  putUploads,
  readEnvFile,
} from './docker/archive.js';
import { buildImage } from './docker/build.js';
import { HARBOR_DIRS, packContext, packDirectories, packFiles, planBuildContext } from './docker/context.js';
import { createEngineClient, httpStatus, pingEngine } from './docker/engine.js';
import { execInContainer, NoTarError, runHelper, STOP_ALL_SCRIPT } from './docker/exec.js';
import {
  DEFAULT_PIDS_LIMIT,
  type EngineFacts,
  isStorageOptRefusal,
  LOOPBACK_HOSTS_SCRIPT,
  planLimits,
  readEngineFacts,
  skipsNetworkSandbox,
} from './docker/limits.js';
import { trackContainer, untrackContainer } from './docker/live.js';
import {
  containerName,
  LABEL_CONTEXT_HASH,
  LABEL_IMAGE_KIND,
  LABEL_IMAGE_TASK,
  LABEL_JOB,
  LABEL_LAYER_HASH,
  LABEL_MANAGED,
  LABEL_OWNER_PID,
  LABEL_TASK,
  LABEL_TRIAL,
  LABEL_TRIAL_NAME,
  layeredImageTag,
  taskImageTag,
} from './docker/names.js';
import { verifyInOneExec } from './docker/verify.js';
import type {
  EnvironmentPaths,
  EnvironmentProvider,
  ExecOptions,
  ExecResult,
  ImageLayer,
  LimitReport,
  PrepareContext,
  PreparedEnvironment,
  Workspace,
  WorkspaceContext,
} from './types.js';
import { type VerificationOutcome, type VerificationRequest, verifyStepByStep } from './verification.js';

export { installSignalCleanup, liveContainerNames, removeLiveContainers } from './docker/live.js';

/**
 * The Docker provider: one image per task (content-addressed, built once, reused across jobs), one container
 * per trial kept alive by a tiny bash loop, every phase run with `docker exec`. Everything it creates carries
 * the `skill-eval=1` label; see docs/docker.md.
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
}

/** What `prepare` hands to `createWorkspace` (PreparedEnvironment.handle). */
export interface DockerHandle {
  /** The reference containers are created from (tag, or the task's docker_image). */
  image: string;
  imageId: string;
  /** The image's WORKDIR, `/app` when it has none. */
  workdir: string;
  /** True when the image has no WORKDIR and `/app` must be created. */
  createWorkdir: boolean;
  /** The image's USER (`''` = root). */
  imageUser: string;
  /** The Harbor log directories are in the image (built from a Dockerfile): nothing to create per trial. */
  harborDirsBaked: boolean;
  source: 'dockerfile' | 'docker_image';
  contextHash?: string | undefined;
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

/**
 * PID 1 of every trial container: names the loopback addresses when the engine wrote no /etc/hosts (no network
 * sandbox), reaps orphans, survives `stopAll()`'s sweep, exits on SIGTERM.
 */
export const KEEPALIVE = `${LOOPBACK_HOSTS_SCRIPT}; trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done`;

const DEFAULT_WORKDIR = '/app';

/** Whether a Docker `User` value (name or uid, optionally `:group`) is root; unset means the image's, root by default. */
export function isRoot(user: string | undefined): boolean {
  return (
    user === undefined ||
    user === '' ||
    user === 'root' ||
    user === '0' ||
    user.startsWith('0:') ||
    user.startsWith('root:')
  );
}

/** The home directory of `user` from the image's /etc/passwd (`name` or `uid`, optionally `:group`). */
export function homeFromPasswd(passwd: string, user: string): string | undefined {
  const wanted = user.split(':')[0]!;
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7) continue;
    if (fields[0] === wanted || fields[2] === wanted) return fields[5] || undefined;
  }
  return undefined;
}

function hashLayer(baseImageId: string, layer: ImageLayer): string {
  const hash = createHash('sha256');
  hash.update(`skill-eval/layer@1\0${baseImageId}\0${layer.key}\0${JSON.stringify(layer.dockerfileLines)}\0`);
  for (const [path, entry] of Object.entries(layer.files ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const content = typeof entry === 'string' || entry instanceof Uint8Array ? entry : entry.content;
    const mode = typeof entry === 'string' || entry instanceof Uint8Array ? 0o644 : entry.mode;
    hash.update(`${path}\0${mode.toString(8)}\0`);
    hash.update(typeof content === 'string' ? content : Buffer.from(content));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function inspectImage(docker: Docker, reference: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(reference).inspect();
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw new InfraError(`inspecting image ${reference} failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** A rebuild moved the tag: drop the old image unless something still uses it (best effort, never throws). */
async function removeReplacedImage(docker: Docker, imageId: string): Promise<void> {
  try {
    const info = await docker.getImage(imageId).inspect();
    if ((info.RepoTags ?? []).length === 0) await docker.getImage(imageId).remove();
  } catch {
    // in use by a container or another tag: it stays
  }
}

class DockerWorkspace implements Workspace {
  readonly paths: EnvironmentPaths;
  private disposed = false;
  private pending: PendingUpload[] = [];
  /** What downloads left out (links out of the copied directory, devices), for the verification outcome. */
  private skippedInDownloads: string[] = [];

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    readonly id: string,
    workdir: string,
    home: string,
    readonly limits: LimitReport,
    private readonly options: {
      killGraceMs: number;
      verifierOffline: boolean;
      lifecycle: LimitFunction;
      /** The image's USER: the one-exec verification runs as root, so only when the verifier would too. */
      imageUser: string;
      /** Shared per image: false once an image turned out to have no tar. */
      tarWorks: { value: boolean };
    },
  ) {
    this.paths = {
      workdir,
      home,
      tmp: '/tmp',
      logsAgent: '/logs/agent',
      logsVerifier: '/logs/verifier',
      logsArtifacts: '/logs/artifacts',
      tests: '/tests',
      solution: '/solution',
    };
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.assertLive();
    const run = (upload?: () => Readable): Promise<ExecResult> =>
      execInContainer(this.container, command, {
        user: options.user,
        cwd: options.cwd ?? this.paths.workdir,
        env: options.env,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        stdin: options.stdin,
        onStdout: options.onStdout,
        onStderr: options.onStderr,
        killGraceMs: this.options.killGraceMs,
        upload,
      });
    // Queued uploads ride on this exec's stdin when it can carry them (root, no stdin of its own, tar in the image).
    if (
      this.pending.length > 0 &&
      options.stdin === undefined &&
      this.options.tarWorks.value &&
      isRoot(options.user ?? this.options.imageUser)
    ) {
      const batch = this.pending;
      this.pending = [];
      try {
        return await run(() => packUploads(batch));
      } catch (error) {
        if (!(error instanceof NoTarError)) throw error;
        this.options.tarWorks.value = false; // nothing was placed and nothing ran: the archive API, then the command
        this.pending = [...batch, ...this.pending];
      }
    }
    await this.flushUploads();
    return run();
  }

  /**
   * Uploads are queued and placed with the next exec (one engine call less each: an archive call costs about as
   * much as a container start here) or, before anything else touches the container, with the archive API.
   */
  async upload(hostPath: string, envPath: string): Promise<void> {
    this.assertLive();
    await this.queue({ kind: 'path', hostPath, envPath });
  }

  async writeFile(envPath: string, content: string | Uint8Array, mode?: number): Promise<void> {
    this.assertLive();
    await this.queue({ kind: 'bytes', envPath, content, mode });
  }

  private async queue(upload: PendingUpload): Promise<void> {
    await checkUpload(upload);
    this.pending.push(upload);
  }

  private async flushUploads(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    await putUploads(this.container, batch);
  }

  async download(envPath: string, hostPath: string): Promise<boolean> {
    this.assertLive();
    await this.flushUploads();
    return downloadPath(this.container, envPath, hostPath, this.skippedInDownloads);
  }

  async readFile(envPath: string): Promise<Buffer | undefined> {
    this.assertLive();
    await this.flushUploads();
    return readEnvFile(this.container, envPath);
  }

  async remove(envPath: string): Promise<void> {
    this.assertLive();
    await this.flushUploads();
    try {
      await runHelper(this.container, 'rm -rf -- "$1"', [envPath]);
    } catch (error) {
      throw new InfraError(`removing ${envPath} in the container failed: ${errorMessage(error)}`, { cause: error });
    }
  }

  async stopAll(): Promise<void> {
    this.assertLive();
    await this.flushUploads();
    try {
      await runHelper(this.container, STOP_ALL_SCRIPT, [
        String(Math.max(1, Math.ceil(this.options.killGraceMs / 1000))),
      ]);
    } catch (error) {
      throw new InfraError(`stopping the trial's processes failed: ${errorMessage(error)}`, { cause: error });
    }
    if (this.options.verifierOffline) await this.disconnectNetworks();
  }

  async verify(request: VerificationRequest): Promise<VerificationOutcome> {
    this.assertLive();
    await this.flushUploads();
    if (isRoot(request.options.user ?? this.options.imageUser) && this.options.tarWorks.value) {
      if (this.options.verifierOffline) await this.disconnectNetworks();
      const outcome = await verifyInOneExec(this.container, request, {
        workdir: this.paths.workdir,
        killGraceMs: this.options.killGraceMs,
        packTests: () => packUploads([{ kind: 'path', hostPath: request.testsHostDir, envPath: request.testsPath }]),
      });
      if (outcome) return outcome;
      this.options.tarWorks.value = false; // nothing was done: step by step below
    }
    this.skippedInDownloads = [];
    const outcome = await verifyStepByStep(this, request);
    return this.skippedInDownloads.length > 0 ? { ...outcome, skipped: this.skippedInDownloads } : outcome;
  }

  /** Takes the container off every network (the verifier then runs offline). */
  async disconnectNetworks(): Promise<void> {
    const info = await this.container.inspect();
    const mode = info.HostConfig.NetworkMode ?? '';
    if (mode === 'none') return;
    if (mode === 'host') {
      this.limits.notes.push(
        'verifier offline requested, but network_mode = "host" cannot be disconnected: the verifier had the host network',
      );
      return;
    }
    for (const name of Object.keys(info.NetworkSettings.Networks ?? {})) {
      try {
        await this.docker.getNetwork(name).disconnect({ Container: this.container.id, Force: true });
      } catch (error) {
        throw new InfraError(`disconnecting the container from network ${name} failed: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    this.limits.notes.push('verifier ran offline: networks disconnected after the agent finished');
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.options.lifecycle(() => this.container.remove({ force: true, v: true }));
        break;
      } catch (error) {
        const status = httpStatus(error);
        if (status === 404) break; // already gone
        if (status === 409 && /already in progress/i.test(errorMessage(error))) break;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
    // Untracked only now: if removal failed, the signal handler and `skill-eval cleanup` can still find it.
    untrackContainer(this.container.id);
  }

  private assertLive(): void {
    if (this.disposed) throw new InfraError(`docker workspace ${this.id} was already disposed`, { retryable: false });
  }
}

interface TaskImage {
  image: string;
  imageId: string;
  built: boolean;
  source: 'dockerfile' | 'docker_image';
  contextHash?: string | undefined;
  notes: string[];
}

export function createDockerProvider(options: DockerProviderOptions = {}): EnvironmentProvider {
  const lifecycle = pLimit(Math.max(1, options.lifecycleConcurrency ?? defaultLifecycleConcurrency()));
  const docker = options.docker ?? createEngineClient();
  const killGraceMs = options.killGraceMs ?? 2_000;
  const pidsLimit = options.pidsLimit ?? DEFAULT_PIDS_LIMIT;
  const buildNetwork = options.buildNetwork ?? process.env.SKILL_EVAL_BUILD_NETWORK ?? undefined;
  // One image per task per provider (= per job); one home lookup per image and user.
  const taskImages = new Map<string, Promise<TaskImage>>();
  const prepared = new Map<string, Promise<PreparedEnvironment>>();
  const homes = new Map<string, Promise<string>>();
  const tarByImage = new Map<string, { value: boolean }>();
  const tarWorksFor = (imageId: string): { value: boolean } => {
    const entry = tarByImage.get(imageId) ?? { value: true };
    tarByImage.set(imageId, entry);
    return entry;
  };
  let facts: Promise<EngineFacts> | undefined;
  let storageRefused = false;

  const engineFacts = (): Promise<EngineFacts> => {
    facts ??= readEngineFacts(docker).catch((error: unknown) => {
      facts = undefined;
      throw new InfraError(`reading the engine's capabilities failed: ${errorMessage(error)}`, { cause: error });
    });
    return facts;
  };

  async function resolveTaskImage(task: Task, context: PrepareContext, force: boolean): Promise<TaskImage> {
    const notes: string[] = [];
    const reference = task.config.environment.dockerImage;
    if (reference !== undefined) {
      const info = await inspectImage(docker, reference);
      if (!info) {
        throw new InfraError(`image ${reference} ([environment].docker_image) is not in the Docker engine`, {
          retryable: false,
          hint: `no registry is reachable from here, so it cannot be pulled: build it (docker build -t ${reference} …) or load it (docker load -i image.tar) first`,
        });
      }
      context.log(`docker: using ${reference} (${info.Id.slice(7, 19)}) from [environment].docker_image`);
      return {
        image: reference,
        imageId: info.Id,
        built: false,
        source: 'docker_image',
        notes: [`image: ${reference} ([environment].docker_image)`],
      };
    }
    if (task.paths.dockerfile === undefined) throw new TaskFormatError(checkTaskForProvider(task, 'docker'));

    const plan = await planBuildContext({ taskDir: task.dir, dockerfile: task.paths.dockerfile });
    notes.push(...plan.notes);
    const tag = taskImageTag(task.name, plan.hash);
    const existing = await inspectImage(docker, tag);
    if (!force) {
      if (existing && existing.Config.Labels?.[LABEL_CONTEXT_HASH] === plan.hash) {
        context.log(`docker: ${tag} is up to date (no build)`);
        notes.push(`image: ${tag} (cached)`);
        return { image: tag, imageId: existing.Id, built: false, source: 'dockerfile', contextHash: plan.hash, notes };
      }
    }
    context.log(
      `docker: building ${tag} from ${plan.kind === 'environment' ? 'environment/' : 'the task root'} (${plan.entries.length} context entries)${force ? ', forced' : ''}`,
    );
    for (const note of plan.notes) context.log(`docker: ${note}`);
    const started = performance.now();
    await buildImage(docker, {
      context: packContext(plan),
      dockerfile: plan.dockerfile,
      tag,
      labels: { [LABEL_IMAGE_KIND]: 'task', [LABEL_CONTEXT_HASH]: plan.hash, [LABEL_IMAGE_TASK]: task.name },
      noCache: force,
      networkMode: buildNetwork,
      timeoutMs: task.config.environment.buildTimeoutSec * 1000,
      signal: context.signal,
      log: context.log,
    });
    const info = await inspectImage(docker, tag);
    if (!info) throw new InfraError(`the build of ${tag} reported success but the image is missing`);
    if (existing && existing.Id !== info.Id) await removeReplacedImage(docker, existing.Id);
    context.log(`docker: built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    notes.push(`image: ${tag} (built)`);
    return { image: tag, imageId: info.Id, built: true, source: 'dockerfile', contextHash: plan.hash, notes };
  }

  async function applyLayers(
    task: Task,
    base: TaskImage,
    layers: ImageLayer[],
    context: PrepareContext,
    force: boolean,
  ): Promise<TaskImage> {
    let current = base;
    const keys: string[] = [];
    for (const layer of layers) {
      keys.push(layer.key);
      const hash = hashLayer(current.imageId, layer);
      // A docker_image base has no context hash: its image id stands in for it.
      const baseTag =
        base.source === 'dockerfile' ? base.image : taskImageTag(task.name, base.imageId.replace(/^sha256:/, ''));
      const tag = layeredImageTag(baseTag, keys);
      const existing = await inspectImage(docker, tag);
      if (!force && existing && existing.Config.Labels?.[LABEL_LAYER_HASH] === hash) {
        context.log(`docker: layer ${layer.key}: ${tag} is up to date (no build)`);
        current = {
          ...current,
          image: tag,
          imageId: existing.Id,
          notes: [...current.notes, `layer ${layer.key}: ${tag} (cached)`],
        };
        continue;
      }
      const dockerfileName = 'Dockerfile.skill-eval-layer';
      const files = Object.entries(layer.files ?? {}).map(([path, entry]) =>
        typeof entry === 'string' || entry instanceof Uint8Array
          ? { path, content: entry }
          : { path, content: entry.content, mode: entry.mode },
      );
      files.push({ path: dockerfileName, content: [`FROM ${current.image}`, ...layer.dockerfileLines, ''].join('\n') });
      context.log(`docker: building layer ${layer.key} as ${tag}`);
      await buildImage(docker, {
        context: packFiles(files),
        dockerfile: dockerfileName,
        tag,
        labels: { [LABEL_IMAGE_KIND]: 'layer', [LABEL_LAYER_HASH]: hash },
        noCache: force,
        networkMode: buildNetwork,
        timeoutMs: 30 * 60 * 1000,
        signal: context.signal,
        log: context.log,
      });
      const info = await inspectImage(docker, tag);
      if (!info) throw new InfraError(`the build of ${tag} reported success but the image is missing`);
      if (existing && existing.Id !== info.Id) await removeReplacedImage(docker, existing.Id);
      current = {
        ...current,
        image: tag,
        imageId: info.Id,
        built: true,
        notes: [...current.notes, `layer ${layer.key}: ${tag} (built)`],
      };
    }
    return current;
  }

  async function doPrepare(task: Task, context: PrepareContext): Promise<PreparedEnvironment> {
    const force = options.forceBuild === true || context.forceBuild;
    let taskImage = taskImages.get(task.dir);
    if (!taskImage) {
      taskImage = resolveTaskImage(task, context, force);
      taskImages.set(task.dir, taskImage);
      taskImage.catch(() => taskImages.delete(task.dir)); // a failed build may be retried
    }
    const base = await taskImage;
    const image =
      context.layers && context.layers.length > 0
        ? await applyLayers(task, base, context.layers, context, force)
        : base;
    const info = await inspectImage(docker, image.imageId);
    if (!info) throw new InfraError(`image ${image.image} disappeared from the engine`);
    const workdir = info.Config.WorkingDir || DEFAULT_WORKDIR;
    const handle: DockerHandle = {
      image: image.image,
      imageId: image.imageId,
      workdir,
      createWorkdir: !info.Config.WorkingDir,
      imageUser: info.Config.User ?? '',
      harborDirsBaked: image.source === 'dockerfile',
      source: image.source,
      contextHash: image.contextHash,
    };
    return {
      task,
      handle: handle as unknown as Record<string, unknown>,
      built: image.built || base.built,
      notes: image.notes,
    };
  }

  async function homeOf(handle: DockerHandle, container: Docker.Container, user: string): Promise<string> {
    if (isRoot(user)) return '/root';
    const key = `${handle.imageId}\0${user}`;
    let home = homes.get(key);
    if (!home) {
      // A user missing from /etc/passwd gets HOME=/ from the engine: the same here.
      home = readEnvFile(container, '/etc/passwd').then(
        (passwd) => (passwd ? homeFromPasswd(passwd.toString('utf8'), user) : undefined) ?? '/',
      );
      homes.set(key, home);
    }
    return home;
  }

  async function createContainer(
    task: Task,
    handle: DockerHandle,
    context: WorkspaceContext,
    facts: EngineFacts,
  ): Promise<{ container: Docker.Container; limits: LimitReport }> {
    const name = containerName(context.jobId, context.trialId);
    const labels = {
      [LABEL_MANAGED]: '1',
      [LABEL_JOB]: context.jobId,
      [LABEL_TRIAL]: context.trialId,
      [LABEL_TASK]: task.name,
      [LABEL_TRIAL_NAME]: context.trialName,
      [LABEL_OWNER_PID]: String(process.pid),
    };
    for (;;) {
      const plan = planLimits(task.config.environment, facts, {
        pidsLimit,
        storageRefused,
        networkOverride: options.networkOverride,
      });
      const noSandbox = skipsNetworkSandbox(plan.hostConfig, isRoot(handle.imageUser));
      try {
        const container = await docker.createContainer({
          name,
          Image: handle.imageId,
          Cmd: ['bash', '-c', KEEPALIVE],
          ...(noSandbox ? { NetworkDisabled: true } : {}),
          Labels: labels,
          Env: Object.entries(task.config.environment.env).map(([key, value]) => `${key}=${value}`),
          Tty: false,
          OpenStdin: false,
          AttachStdin: false,
          AttachStdout: false,
          AttachStderr: false,
          HostConfig: plan.hostConfig,
        });
        trackContainer(docker, container.id, name);
        return { container, limits: plan.report };
      } catch (error) {
        if (plan.storageRequested && !storageRefused && isStorageOptRefusal(errorMessage(error))) {
          storageRefused = true; // the engine cannot: ask without, and report storage as not enforced
          continue;
        }
        throw new InfraError(`creating container ${name} failed: ${errorMessage(error)}`, { cause: error });
      }
    }
  }

  return {
    name: 'docker',
    usesImages: true,

    async preflight() {
      await pingEngine(docker);
      await engineFacts();
    },

    prepare(task: Task, context: PrepareContext): Promise<PreparedEnvironment> {
      const key = `${task.dir}\0${JSON.stringify((context.layers ?? []).map((l) => l.key))}`;
      const existing = prepared.get(key);
      // A memoized prepare did no work for this caller.
      if (existing) return existing.then((result) => ({ ...result, built: false }));
      const promise = doPrepare(task, context);
      prepared.set(key, promise);
      promise.catch(() => prepared.delete(key));
      return promise;
    },

    async createWorkspace(preparedEnvironment: PreparedEnvironment, context: WorkspaceContext): Promise<Workspace> {
      if (context.signal?.aborted) throw new InterruptedError('trial cancelled before its container was created');
      const task = preparedEnvironment.task;
      const handle = preparedEnvironment.handle as unknown as DockerHandle;
      const facts = await engineFacts();
      return lifecycle(() => startWorkspace(context, task, handle, facts));
    },
  };

  /** Create, populate and start a trial's container: one engine lifecycle slot. */
  async function startWorkspace(
    context: WorkspaceContext,
    task: Task,
    handle: DockerHandle,
    facts: EngineFacts,
  ): Promise<Workspace> {
    const { container, limits } = await createContainer(task, handle, context, facts);
    const fail = async (message: string, error: unknown): Promise<never> => {
      await container.remove({ force: true, v: true }).catch(() => undefined);
      untrackContainer(container.id);
      throw new InfraError(`${message}: ${errorMessage(error)}`, { cause: error });
    };
    // Images built here have the Harbor directories already; others get them (and a missing workdir) now,
    // before start: the archive API works on a created container. World-writable so a non-root agent or
    // verifier can write its logs; the lifecycle recreates /logs/verifier before verifying.
    const dirs = handle.harborDirsBaked ? [] : ['logs/', ...HARBOR_DIRS.map((d) => `${d}/`)];
    if (handle.createWorkdir) dirs.push(`${handle.workdir.replace(/^\/+/, '')}/`);
    if (dirs.length > 0) {
      try {
        await container.putArchive(packDirectories(dirs), { path: '/' });
      } catch (error) {
        await fail('preparing the trial directories failed', error);
      }
    }
    try {
      await container.start();
    } catch (error) {
      await fail(`starting container ${containerName(context.jobId, context.trialId)} failed`, error);
    }
    let home = '/root';
    try {
      home = await homeOf(handle, container, task.config.agent.user ?? handle.imageUser);
    } catch (error) {
      await fail('reading /etc/passwd of the container failed', error);
    }
    const workspace = new DockerWorkspace(
      docker,
      container,
      containerName(context.jobId, context.trialId),
      handle.workdir,
      home,
      limits,
      {
        killGraceMs,
        verifierOffline: options.verifierOffline === true,
        lifecycle,
        imageUser: handle.imageUser,
        tarWorks: tarWorksFor(handle.imageId),
      },
    );
    if (context.signal?.aborted) {
      // Not through the limiter: this call already holds a slot.
      await container.remove({ force: true, v: true }).catch(() => undefined);
      untrackContainer(container.id);
      throw new InterruptedError('trial cancelled while its container was starting');
    }
    return workspace;
  }
}
