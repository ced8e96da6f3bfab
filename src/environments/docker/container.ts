import type Docker from 'dockerode';
import { errorMessage, InfraError, InterruptedError } from '../../errors.js';
import type { Task } from '../../task/types.js';
import { currentOwner } from '../owner.js';
import { GATEWAY_ENV_DIR, type LimitReport, type WorkspaceContext } from '../types.js';
import { readEnvFile } from './archive.js';
import { HARBOR_DIRS, packDirectories } from './context.js';
import type { DockerHandle } from './images.js';
import { type EngineFacts, isStorageOptRefusal, planLimits, skipsNetworkSandbox } from './limits.js';
import { trackContainer, untrackContainer } from './live.js';
import {
  containerName,
  LABEL_JOB,
  LABEL_MANAGED,
  LABEL_OWNER_HOST,
  LABEL_OWNER_PID,
  LABEL_TASK,
  LABEL_TRIAL,
  LABEL_TRIAL_NAME,
} from './names.js';
import { SCRIPTS } from './scripts.js';

/**
 * A trial's container from creation to a started container with its home known: one container per trial, kept
 * alive by keepalive.sh, every phase run with `docker exec`. Removal is the workspace's (workspace.ts).
 */

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

export interface ContainerSettings {
  docker: Docker;
  pidsLimit: number;
  networkOverride: string | undefined;
  runtime: string | undefined;
}

/** What containers of one provider learn once and share: the engine refused a storage limit; homes per image and user. */
export interface ContainerState {
  storageRefused: boolean;
  homes: Map<string, Promise<string>>;
}

async function createContainer(
  settings: ContainerSettings,
  state: ContainerState,
  task: Task,
  handle: DockerHandle,
  context: WorkspaceContext,
  facts: EngineFacts,
): Promise<{ container: Docker.Container; limits: LimitReport }> {
  const name = containerName(context.jobId, context.trialId);
  const owner = currentOwner();
  const labels = {
    [LABEL_MANAGED]: '1',
    [LABEL_JOB]: context.jobId,
    [LABEL_TRIAL]: context.trialId,
    [LABEL_TASK]: task.name,
    [LABEL_TRIAL_NAME]: context.trialName,
    [LABEL_OWNER_PID]: String(owner.pid),
    [LABEL_OWNER_HOST]: owner.host,
  };
  for (;;) {
    const { pidsLimit, networkOverride, runtime } = settings;
    const plan = planLimits(task.config.environment, facts, {
      pidsLimit,
      storageRefused: state.storageRefused,
      networkOverride,
      runtime,
    });
    const noSandbox = skipsNetworkSandbox(plan.hostConfig, isRoot(handle.imageUser));
    // The model gateway's socket directory: the agent's way to its model API, with or without a network.
    const binds = context.gatewayDir ? [`${context.gatewayDir}:${GATEWAY_ENV_DIR}`] : [];
    try {
      const container = await settings.docker.createContainer({
        name,
        Image: handle.imageId,
        Cmd: ['bash', '-c', SCRIPTS.keepalive],
        ...(noSandbox ? { NetworkDisabled: true } : {}),
        Labels: labels,
        Env: Object.entries(task.config.environment.env).map(([key, value]) => `${key}=${value}`),
        Tty: false,
        OpenStdin: false,
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        HostConfig: binds.length > 0 ? { ...plan.hostConfig, Binds: binds } : plan.hostConfig,
      });
      trackContainer(settings.docker, container.id, name);
      return { container, limits: plan.report };
    } catch (error) {
      if (plan.storageRequested && !state.storageRefused && isStorageOptRefusal(errorMessage(error))) {
        state.storageRefused = true; // the engine cannot: ask without, and report storage as not enforced
        continue;
      }
      throw new InfraError(`creating container ${name} failed: ${errorMessage(error)}`, { cause: error });
    }
  }
}

function homeOf(
  state: ContainerState,
  handle: DockerHandle,
  container: Docker.Container,
  user: string,
): Promise<string> {
  if (isRoot(user)) return Promise.resolve('/root');
  const key = `${handle.imageId}\0${user}`;
  let home = state.homes.get(key);
  if (!home) {
    // A user missing from /etc/passwd gets HOME=/ from the engine: the same here.
    home = readEnvFile(container, '/etc/passwd').then(
      (passwd) => (passwd ? homeFromPasswd(passwd.toString('utf8'), user) : undefined) ?? '/',
    );
    state.homes.set(key, home);
  }
  return home;
}

async function removeNow(container: Docker.Container): Promise<void> {
  await container.remove({ force: true, v: true }).catch(() => undefined);
  untrackContainer(container.id);
}

/**
 * Creates, populates and starts a trial's container (the caller holds one engine lifecycle slot); returns it with
 * its limits and the agent's home. Whatever fails removes the container again.
 */
export async function startContainer(
  settings: ContainerSettings,
  state: ContainerState,
  task: Task,
  handle: DockerHandle,
  context: WorkspaceContext,
  facts: EngineFacts,
): Promise<{ container: Docker.Container; limits: LimitReport; home: string }> {
  const { container, limits } = await createContainer(settings, state, task, handle, context, facts);
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      await removeNow(container);
      throw new InfraError(`${what}: ${errorMessage(error)}`, { cause: error });
    }
  };
  // Images built here have the Harbor directories already; others get them (and a missing workdir) now, before
  // start: the archive API works on a created container. World-writable so a non-root agent or verifier can write
  // its logs; the lifecycle recreates /logs/verifier before verifying.
  const dirs = handle.harborDirsBaked ? [] : ['logs/', ...HARBOR_DIRS.map((d) => `${d}/`)];
  if (handle.createWorkdir) dirs.push(`${handle.workdir.replace(/^\/+/, '')}/`);
  if (dirs.length > 0)
    await step('preparing the trial directories failed', () =>
      container.putArchive(packDirectories(dirs), { path: '/' }),
    );
  await step(`starting container ${containerName(context.jobId, context.trialId)} failed`, () => container.start());
  const user = task.config.agent.user ?? handle.imageUser;
  const home = await step('reading /etc/passwd of the container failed', () => homeOf(state, handle, container, user));
  if (context.signal?.aborted) {
    await removeNow(container);
    throw new InterruptedError('trial cancelled while its container was starting');
  }
  return { container, limits, home };
}
