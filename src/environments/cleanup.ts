import type Docker from 'dockerode';
import { errorMessage } from '../errors.js';
import { createEngineClient, httpStatus, pingEngine } from './docker/engine.js';
import { LABEL_JOB, LABEL_MANAGED, LABEL_OWNER_HOST, LABEL_OWNER_PID } from './docker/names.js';
import { keptReason, type Owner, ownerState } from './owner.js';
import type { ReclaimReport } from './types.js';

export interface DockerCleanupOptions {
  /** Only what this job created. */
  jobId?: string | undefined;
  /** Also what a live owner (a skill-eval process still running on this host, or on another) holds. */
  force?: boolean | undefined;
  docker?: Docker | undefined;
}

type Kind = 'container' | 'network' | 'volume';

/** A resource cleanup left in place, and why. */
export interface KeptResource {
  kind: Kind;
  /** Container name (or id), network or volume name. */
  name: string;
  job: string | undefined;
  reason: string;
}

export interface DockerCleanupResult {
  containers: number;
  networks: number;
  volumes: number;
  /** Resources of live owners, left alone (`force` removes them too). */
  kept: KeptResource[];
  /** Objects that could not be removed, with the engine's reason. */
  errors: string[];
}

interface Candidate {
  id: string;
  name: string;
  labels: Record<string, string> | undefined;
}

function ownerOf(labels: Record<string, string> | undefined): Partial<Owner> {
  const pid = labels?.[LABEL_OWNER_PID];
  return { pid: pid === undefined ? undefined : Number(pid), host: labels?.[LABEL_OWNER_HOST] };
}

/** Why a resource must stay (its owner may still use it), or undefined when it is a leftover. */
function reasonToKeep(labels: Record<string, string> | undefined): string | undefined {
  const owner = ownerOf(labels);
  const state = ownerState(owner);
  return state === 'alive' || state === 'elsewhere' ? keptReason(owner, state) : undefined;
}

/**
 * Removes every container, network and volume labelled `skill-eval=1` (optionally only one job's) whose owner is
 * gone: what a killed run (SIGKILL, power loss) left behind. Resources of a skill-eval process that still runs
 * (owner pid and host labels) are kept and reported, unless `force`. Images are a cache and stay.
 */
export async function cleanupDocker(options: DockerCleanupOptions = {}): Promise<DockerCleanupResult> {
  const docker = options.docker ?? createEngineClient();
  await pingEngine(docker);
  const label = [`${LABEL_MANAGED}=1`];
  if (options.jobId !== undefined) label.push(`${LABEL_JOB}=${options.jobId}`);
  const filters = JSON.stringify({ label });
  const result: DockerCleanupResult = { containers: 0, networks: 0, volumes: 0, kept: [], errors: [] };

  const removeEach = async (kind: Kind, found: Candidate[], remove: (id: string) => Promise<unknown>) => {
    await Promise.all(
      found.map(async ({ id, name, labels }) => {
        const reason = options.force ? undefined : reasonToKeep(labels);
        if (reason !== undefined) {
          result.kept.push({ kind, name, job: labels?.[LABEL_JOB], reason });
          return;
        }
        try {
          await remove(id);
          result[`${kind}s`]++;
        } catch (error) {
          if (httpStatus(error) === 404) return; // removed meanwhile (a dispose raced us)
          result.errors.push(`${kind} ${name}: ${errorMessage(error)}`);
        }
      }),
    );
  };

  // Containers first: networks and volumes in use cannot be removed.
  const containers = await docker.listContainers({ all: true, filters });
  await removeEach(
    'container',
    containers.map((c) => ({
      id: c.Id,
      name: c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12),
      labels: c.Labels,
    })),
    (id) => docker.getContainer(id).remove({ force: true, v: true }),
  );
  const networks = await docker.listNetworks({ filters });
  await removeEach(
    'network',
    networks.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels })),
    (id) => docker.getNetwork(id).remove(),
  );
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await removeEach(
    'volume',
    volumes.map((v) => ({ id: v.Name, name: v.Name, labels: v.Labels ?? undefined })),
    (name) => docker.getVolume(name).remove(),
  );
  return result;
}

/**
 * Before a resumed job starts: removes the containers (networks, volumes) its own earlier, dead runs left;
 * a run of the same job that is still alive keeps its own. Returns what it removed and kept, in words.
 */
export async function reclaimDockerJob(jobId: string, docker?: Docker): Promise<ReclaimReport> {
  const result = await cleanupDocker({ jobId, docker });
  const removed = result.containers + result.networks + result.volumes;
  const notes = result.kept.map((k) => `kept ${k.kind} ${k.name}: ${k.reason}`);
  notes.push(...result.errors.map((e) => `could not remove ${e}`));
  return { removed, notes };
}
