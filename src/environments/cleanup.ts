import type Docker from 'dockerode';
import { errorMessage } from '../errors.js';
import { createEngineClient, httpStatus, pingEngine } from './docker/engine.js';
import { LABEL_JOB, LABEL_MANAGED } from './docker/names.js';

export interface DockerCleanupOptions {
  /** Only what this job created. */
  jobId?: string | undefined;
  docker?: Docker | undefined;
}

export interface DockerCleanupResult {
  containers: number;
  networks: number;
  volumes: number;
  /** Objects that could not be removed, with the engine's reason. */
  errors: string[];
}

/**
 * Removes every container, network and volume labelled `skill-eval=1` (optionally only one job's): what a
 * killed run (SIGKILL, power loss) left behind. Images are a cache and stay (`docker image prune` if needed).
 */
export async function cleanupDocker(options: DockerCleanupOptions = {}): Promise<DockerCleanupResult> {
  const docker = options.docker ?? createEngineClient();
  await pingEngine(docker);
  const label = [`${LABEL_MANAGED}=1`];
  if (options.jobId !== undefined) label.push(`${LABEL_JOB}=${options.jobId}`);
  const filters = JSON.stringify({ label });
  const result: DockerCleanupResult = { containers: 0, networks: 0, volumes: 0, errors: [] };

  const removeEach = async (
    ids: string[],
    kind: 'containers' | 'networks' | 'volumes',
    remove: (id: string) => Promise<unknown>,
  ): Promise<void> => {
    await Promise.all(
      ids.map(async (id) => {
        try {
          await remove(id);
          result[kind]++;
        } catch (error) {
          if (httpStatus(error) === 404) return; // removed meanwhile (a dispose raced us)
          result.errors.push(`${kind.slice(0, -1)} ${id.slice(0, 12)}: ${errorMessage(error)}`);
        }
      }),
    );
  };

  // Containers first: networks and volumes in use cannot be removed.
  const containers = await docker.listContainers({ all: true, filters });
  await removeEach(
    containers.map((c) => c.Id),
    'containers',
    (id) => docker.getContainer(id).remove({ force: true, v: true }),
  );
  const networks = await docker.listNetworks({ filters });
  await removeEach(
    networks.map((n) => n.Id),
    'networks',
    (id) => docker.getNetwork(id).remove(),
  );
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await removeEach(
    volumes.map((v) => v.Name),
    'volumes',
    (name) => docker.getVolume(name).remove(),
  );
  return result;
}
