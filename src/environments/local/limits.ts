import type { LimitReport } from '../types.js';
import { SANDBOX_ENV } from './sandbox.js';

/** How a local workspace runs its commands: in a bubblewrap sandbox, or (why not) unsandboxed as before. */
export type LocalSandbox = { bwrap: string; offline: boolean } | { bwrap?: undefined; reason: string };

/** The result's limits: no resource limit is applied locally; isolation is the sandbox's, or none. */
export function localLimits(sandbox: LocalSandbox, networkKept = false): LimitReport {
  const resources = {
    cpus: 'not enforced',
    memory: 'not enforced',
    storage: 'not enforced',
    pids: 'not enforced',
  } as const;
  if (sandbox.bwrap === undefined) {
    return {
      ...resources,
      network: 'not enforced',
      sandbox: 'not enforced',
      notes: [
        `local provider: not sandboxed (${sandbox.reason}): the agent sees the host's file system and network, and a process it detaches with setsid can outlive the trial`,
        'local provider: no resource limits; use --provider=docker for isolation',
      ],
    };
  }
  return {
    ...resources,
    network: !sandbox.offline ? 'not applicable' : networkKept ? 'not enforced' : 'enforced',
    sandbox: 'enforced',
    notes: [
      `local provider: bubblewrap sandbox (own mount, PID and IPC namespaces${sandbox.offline ? '; network: loopback only (allow_internet = false)' : '; network: the host’s'}); ${SANDBOX_ENV}=0 turns it off`,
      ...(networkKept
        ? [
            "network: the agent CLI ran with the host's network although allow_internet = false, to reach its model API (every other command had loopback only)",
          ]
        : []),
      'local provider: no resource limits; use --provider=docker for them',
    ],
  };
}
