import type Docker from 'dockerode';
import type { TaskConfig } from '../../task/types.js';
import type { LimitReport } from '../types.js';

/** What the engine can enforce, read once per provider from `docker info`. */
export interface EngineFacts {
  serverVersion: string;
  storageDriver: string;
  /** `Backing Filesystem` of the storage driver (extfs, xfs, …), when reported. */
  backingFilesystem?: string | undefined;
  cgroupVersion?: string | undefined;
  swapLimit: boolean;
  pidsLimit: boolean;
  cpuCfsQuota: boolean;
  hostCpus: number;
  /** The OCI runtimes the engine knows (`runc`, and `runsc` once gVisor is registered). */
  runtimes: string[];
  /** Each runtime's registered arguments (daemon.json `runtimeArgs`). */
  runtimeArgs: Record<string, string[]>;
}

export async function readEngineFacts(docker: Docker): Promise<EngineFacts> {
  const info = (await docker.info()) as Record<string, unknown>;
  const driverStatus = (info.DriverStatus as Array<[string, string]> | undefined) ?? [];
  return {
    serverVersion: String(info.ServerVersion ?? 'unknown'),
    storageDriver: String(info.Driver ?? 'unknown'),
    backingFilesystem: driverStatus.find(([key]) => key === 'Backing Filesystem')?.[1],
    cgroupVersion: info.CgroupVersion === undefined ? undefined : String(info.CgroupVersion),
    swapLimit: info.SwapLimit === true,
    pidsLimit: info.PidsLimit !== false,
    cpuCfsQuota: info.CPUCfsQuota !== false,
    hostCpus: Number(info.NCPU ?? 0),
    runtimes: Object.keys((info.Runtimes as Record<string, unknown> | undefined) ?? {}),
    runtimeArgs: Object.fromEntries(
      Object.entries((info.Runtimes as Record<string, { runtimeArgs?: unknown }> | undefined) ?? {}).map(
        ([name, entry]) => [name, Array.isArray(entry?.runtimeArgs) ? entry.runtimeArgs.map(String) : []],
      ),
    ),
  };
}

/**
 * Whether the storage driver can cap a container's writable layer (`--storage-opt size=`): overlay2 only on
 * xfs mounted with pquota (which `docker info` does not tell, so creating the container is the real test),
 * btrfs, zfs and devicemapper always.
 */
export function storageLimitPossible(facts: EngineFacts): boolean {
  if (facts.storageDriver === 'overlay2') return facts.backingFilesystem === 'xfs';
  return ['btrfs', 'zfs', 'devicemapper', 'windowsfilter'].includes(facts.storageDriver);
}

/** Containers never get more than this many processes (fork bombs stay inside their trial). */
export const DEFAULT_PIDS_LIMIT = 4096;

export interface LimitPlan {
  hostConfig: Docker.HostConfig;
  report: LimitReport;
  /** True when `hostConfig.StorageOpt` is set; creation is retried without it if the engine refuses. */
  storageRequested: boolean;
}

export interface LimitPlanOptions {
  pidsLimit: number;
  /** Set after the engine refused a storage limit once: do not ask again. */
  storageRefused: boolean;
  /** `eval --network`: replaces task.toml's network policy for every trial (recorded in the notes). */
  networkOverride?: string | undefined;
  /** `eval --runtime`: the engine runtime every container runs under (gVisor's `runsc`); the engine's default otherwise. */
  runtime?: string | undefined;
}

/** Maps task.toml's resource limits and network policy to a HostConfig, and says how each one is applied. */
export function planLimits(
  environment: TaskConfig['environment'],
  facts: EngineFacts,
  options: LimitPlanOptions,
): LimitPlan {
  const notes: string[] = [];
  const hostConfig: Docker.HostConfig = {};
  const report: LimitReport = {
    cpus: 'not applicable',
    memory: 'not applicable',
    storage: 'not applicable',
    pids: 'not enforced',
    network: 'not applicable',
    notes,
  };

  if (environment.cpus > 0) {
    let cpus = environment.cpus;
    if (facts.hostCpus > 0 && cpus > facts.hostCpus) {
      notes.push(`cpus = ${cpus} exceeds the engine's ${facts.hostCpus} CPUs: limited to ${facts.hostCpus}`);
      cpus = facts.hostCpus;
    }
    hostConfig.NanoCpus = Math.round(cpus * 1e9);
    report.cpus = facts.cpuCfsQuota ? 'enforced' : 'not enforced';
    if (!facts.cpuCfsQuota) notes.push('cpus: the kernel has no CFS quota support; the CPU limit is not enforced');
  }

  if (environment.memoryMb > 0) {
    const bytes = environment.memoryMb * 1024 * 1024;
    hostConfig.Memory = bytes;
    // No swap beyond the memory limit. Without swap accounting the engine drops MemorySwap (and warns).
    if (facts.swapLimit) hostConfig.MemorySwap = bytes;
    else notes.push('memory: the kernel has no swap accounting, so swap use beyond memory_mb is not limited');
    report.memory = 'enforced';
  }

  if (options.pidsLimit > 0) {
    hostConfig.PidsLimit = options.pidsLimit;
    report.pids = facts.pidsLimit ? 'enforced' : 'not enforced';
    if (!facts.pidsLimit) notes.push('pids: the kernel has no pids cgroup; the process limit is not enforced');
  }

  let storageRequested = false;
  if (environment.storageMb > 0) {
    if (storageLimitPossible(facts) && !options.storageRefused) {
      hostConfig.StorageOpt = { size: `${environment.storageMb}M` };
      storageRequested = true;
      report.storage = 'enforced';
    } else {
      report.storage = 'not enforced';
      const fs = facts.backingFilesystem ? ` on ${facts.backingFilesystem}` : '';
      notes.push(
        options.storageRefused
          ? `storage_mb = ${environment.storageMb}: the engine refused a size limit (${facts.storageDriver}${fs} needs xfs mounted with pquota); not enforced`
          : `storage_mb = ${environment.storageMb}: the ${facts.storageDriver} storage driver${fs} cannot limit a container's size (needs overlay2 on xfs with pquota, btrfs or zfs); not enforced`,
      );
    }
  }

  if (environment.gpus > 0) notes.push(`gpus = ${environment.gpus}: the Docker provider does not attach GPUs`);
  if (options.runtime !== undefined) {
    hostConfig.Runtime = options.runtime;
    report.runtime = options.runtime;
    notes.push(`runtime: ${options.runtime} (--runtime)`);
  }

  const requested = environment.networkMode;
  if (options.networkOverride !== undefined) {
    hostConfig.NetworkMode = options.networkOverride;
    report.network = options.networkOverride === 'none' ? 'enforced' : 'not enforced';
    notes.push(
      `network: ${options.networkOverride} (--network overrides task.toml's allow_internet = ${environment.allowInternet}${requested ? `, network_mode = "${requested}"` : ''})`,
    );
  } else if (!environment.allowInternet) {
    hostConfig.NetworkMode = 'none';
    report.network = 'enforced';
    notes.push('network: none (allow_internet = false)');
    if (requested && requested !== 'none')
      notes.push(`network_mode = "${requested}" ignored: allow_internet = false wins`);
  } else if (requested === 'none') {
    hostConfig.NetworkMode = 'none';
    report.network = 'enforced';
    notes.push('network: none (network_mode = "none")');
  } else {
    hostConfig.NetworkMode = requested ?? 'bridge';
    report.network = 'not applicable';
    if (hostConfig.NetworkMode === 'bridge' || hostConfig.NetworkMode === 'default') {
      notes.push(
        'network: default bridge; egress depends on the engine (none when dockerd runs with --iptables=false: use network_mode = "host")',
      );
    } else {
      notes.push(`network: ${hostConfig.NetworkMode} (network_mode)`);
    }
  }
  return { hostConfig, report, storageRequested };
}

/**
 * Whether a container without network can also skip the engine's network sandbox (`NetworkDisabled`). runc then
 * gives it a fresh network namespace with loopback up, as `none` does, but the engine skips libnetwork's
 * per-container setup (two re-executions of dockerd: ~40 % of a trivial Docker trial's CPU here). The engine
 * then writes no /etc/hosts: PID 1 writes the loopback names (loopback-hosts.sh), so it must run as root.
 */
export function skipsNetworkSandbox(hostConfig: Docker.HostConfig, pid1IsRoot: boolean): boolean {
  return hostConfig.NetworkMode === 'none' && pid1IsRoot;
}

/** The engine's answer when a storage size limit is impossible on this driver/filesystem. */
export function isStorageOptRefusal(message: string): boolean {
  return /storage-?opt|storage opt|pquota|quota|size option/i.test(message);
}
