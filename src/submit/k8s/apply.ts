import type { Job } from 'kubernetes-models/batch/v1/Job';
import { errorMessage, InfraError, UsageError } from '../../errors.js';

export interface AppliedJob {
  server: string;
  context: string;
  namespace: string;
  name: string;
  uid?: string | undefined;
}

/** The API server's own words from a failed call: its Status object's message when it sent one. */
function serverMessage(error: unknown): { code?: number | undefined; message: string } {
  const { code, body } = error as { code?: unknown; body?: unknown };
  let message = errorMessage(error).split('\n')[0] ?? '';
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      message = body || message;
    }
  } else if (body && typeof body === 'object' && 'message' in body) {
    message = String((body as { message: unknown }).message);
  }
  return { code: typeof code === 'number' ? code : undefined, message };
}

/**
 * Creates the Job through the official client (@kubernetes/client-node), with the kubeconfig found where kubectl
 * finds it: $KUBECONFIG, ~/.kube/config, or the pod's service account. Loaded on demand: only --apply needs it.
 */
export async function applyWorkerJob(job: Job, namespace: string, signal?: AbortSignal): Promise<AppliedJob> {
  const { KubeConfig, BatchV1Api } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    config.loadFromDefault();
  } catch (error) {
    throw new UsageError(`kubeconfig cannot be read: ${errorMessage(error)}`, { cause: error });
  }
  const cluster = config.getCurrentCluster();
  // Without any kubeconfig the client falls back to an unauthenticated http://localhost:8080: say so instead.
  if (!cluster || (cluster.name === 'cluster' && cluster.server === 'http://localhost:8080')) {
    throw new UsageError('--apply: no kubeconfig found ($KUBECONFIG, ~/.kube/config, or a pod service account)', {
      hint: 'point KUBECONFIG at your cluster’s config, or leave out --apply and `kubectl apply -f` the written manifest',
    });
  }
  signal?.throwIfAborted();
  const api = config.makeApiClient(BatchV1Api);
  try {
    const created = await api.createNamespacedJob({ namespace, body: job.toJSON() as never });
    return {
      server: cluster.server,
      context: config.getCurrentContext(),
      namespace,
      name: created.metadata?.name ?? job.metadata?.name ?? '',
      uid: created.metadata?.uid,
    };
  } catch (error) {
    const { code, message } = serverMessage(error);
    const where = `${cluster.server} (context ${config.getCurrentContext()})`;
    if (code === 409)
      throw new UsageError(`--apply: a Job named ${job.metadata?.name} already exists in namespace ${namespace}`, {
        hint: 'pass another --name, or delete the old Job first (kubectl delete job …)',
      });
    if (code !== undefined && code >= 400 && code < 500)
      throw new UsageError(`--apply: ${where} refused the Job (HTTP ${code}): ${message}`, { cause: error });
    throw new InfraError(`--apply: could not create the Job on ${where}: ${message}`, { cause: error });
  }
}
