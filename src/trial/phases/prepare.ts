import type { Workspace } from '../../environments/types.js';
import type { TrialRuntime } from '../types.js';

export interface WorkspaceIds {
  jobId: string;
  trialId: string;
  trialName: string;
  /** The trial's model gateway directory, shown in the workspace (WorkspaceContext.gatewayDir). */
  gatewayDir?: string | undefined;
}

/** environment_setup: the task's environment (prepared once per job, by the caller), then this trial's own workspace. */
export async function prepareWorkspace(
  runtime: Pick<TrialRuntime, 'provider' | 'prepare' | 'signal'>,
  ids: WorkspaceIds,
): Promise<Workspace> {
  return runtime.provider.createWorkspace(await runtime.prepare(), { ...ids, signal: runtime.signal });
}
