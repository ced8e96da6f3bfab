import type { Agent } from '../agents/types.js';
import type { EnvironmentProvider, ImageLayer, PreparedEnvironment } from '../environments/types.js';
import { usesGateway } from '../gateway/trial.js';
import type { Task } from '../task/types.js';

export interface PrepareOnceOptions {
  provider: EnvironmentProvider;
  tasks: readonly Task[];
  jobId: string;
  forceBuild: boolean;
  signal?: AbortSignal | undefined;
  /** Build output; `setup` for what no single task owns (an agent's image layer). */
  log: (task: string, line: string) => void;
  /** The API agents' trials have model gateways: their images get the forwarder's Node (src/gateway/forwarder-layer.ts). */
  gateway?: boolean | undefined;
}

/**
 * One `provider.prepare` per task and agent image layer in a job, however many trials ask: the first caller
 * builds, the others wait for the same promise and are told nothing was built for them. A failed prepare is
 * forgotten, so a retried trial tries again.
 */
export function prepareOnce(options: PrepareOnceOptions): (task: Task, agent: Agent) => Promise<PreparedEnvironment> {
  const { provider, signal } = options;
  // Image-based providers bake each agent's CLI into a layer on the task image: built once, reused by every trial.
  const layers = new Map<string, Promise<ImageLayer | undefined>>();
  const layerFor = (agent: Agent): Promise<ImageLayer | undefined> => {
    if (!provider.usesImages || !agent.imageLayer) return Promise.resolve(undefined);
    const layer = layers.get(agent.name) ?? agent.imageLayer({ signal, log: (line) => options.log('setup', line) });
    layers.set(agent.name, layer);
    return layer;
  };
  let nodeLayer: Promise<ImageLayer> | undefined;
  const gatewayLayer = (agent: Agent): Promise<ImageLayer | undefined> => {
    if (!provider.usesImages || !options.gateway || !usesGateway(agent, {})) return Promise.resolve(undefined);
    // Loaded on demand: it pulls in the Docker engine client.
    nodeLayer ??= import('../gateway/forwarder-layer.js').then(({ gatewayNodeLayer }) =>
      gatewayNodeLayer({ signal, log: (line) => options.log('setup', line) }),
    );
    return nodeLayer;
  };
  const prepared = new Map<string, Promise<PreparedEnvironment>>();
  return (task, agent) => {
    // Without images every agent shares one preparation of the task.
    const layered =
      provider.usesImages && (agent.imageLayer !== undefined || (options.gateway === true && usesGateway(agent, {})));
    const key = `${options.tasks.indexOf(task)}\u0000${layered ? agent.name : ''}`;
    const existing = prepared.get(key);
    if (existing) return existing.then((result) => ({ ...result, built: false }));
    const promise = Promise.all([layerFor(agent), gatewayLayer(agent)]).then((found) => {
      const layers = found.filter((layer) => layer !== undefined);
      return provider.prepare(task, {
        jobId: options.jobId,
        forceBuild: options.forceBuild,
        signal,
        log: (line) => options.log(task.name, line),
        layers: layers.length > 0 ? layers : undefined,
      });
    });
    prepared.set(key, promise);
    promise.catch(() => {
      if (prepared.get(key) === promise) prepared.delete(key);
    });
    return promise;
  };
}
