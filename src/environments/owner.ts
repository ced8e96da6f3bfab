import { hostname } from 'node:os';
import { processAlive } from '../util/process-group.js';

/** The skill-eval process that created a resource: recorded on it so cleanup can tell a live run from a dead one. */
export interface Owner {
  pid: number;
  host: string;
}

export function currentOwner(): Owner {
  return { pid: process.pid, host: hostname() };
}

/**
 * `dead`: the owner ran on this host and is gone, so its resources are leftovers. `alive`: it still runs here.
 * `elsewhere`: another host, where this process cannot check. `unknown`: the resource names no owner (created by
 * an older version), so nothing protects it.
 */
export type OwnerState = 'alive' | 'dead' | 'elsewhere' | 'unknown';

export function ownerState(owner: Partial<Owner>, self: Owner = currentOwner()): OwnerState {
  if (owner.pid === undefined || !Number.isInteger(owner.pid) || owner.pid <= 0) return 'unknown';
  // Without a host label (older versions recorded only the pid) the pid is taken as this host's.
  if (owner.host !== undefined && owner.host !== self.host) return 'elsewhere';
  return processAlive(owner.pid) ? 'alive' : 'dead';
}

/** Why a resource was kept, in words (for `cleanup`'s report). */
export function keptReason(owner: Partial<Owner>, state: OwnerState): string {
  if (state === 'alive') return `its owner, skill-eval process ${owner.pid}, is still running`;
  return `its owner, process ${owner.pid} on host ${owner.host}, runs on another host and cannot be checked from here`;
}
