import type { Agent } from '../agents/types.js';
import type { EnvironmentProvider, ImageLayer, PreparedEnvironment } from '../environments/types.js';
import type { Task } from '../task/types.js';

export interface PrepareOnceOptions {
  provider: EnvironmentProvider;
  tasks: readonly Task[];
  jobId: string;
  forceBuild: boolean;
  signal?: AbortSignal | undefined;
  /** Build output; `setup` for what no single task owns (an agent's image layer). */
  log: (task: string, line: string) => void;
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
  const prepared = new Map<string, Promise<PreparedEnvironment>>();
  return (task, agent) => {
    // Without images every agent shares one preparation of the task.
    const key = `${options.tasks.indexOf(task)}\u0000${provider.usesImages && agent.imageLayer ? agent.name : ''}`;
    const existing = prepared.get(key);
    if (existing) return existing.then((result) => ({ ...result, built: false }));
    const promise = layerFor(agent).then((layer) =>
      provider.prepare(task, {
        jobId: options.jobId,
        forceBuild: options.forceBuild,
        signal,
        log: (line) => options.log(task.name, line),
        layers: layer ? [layer] : undefined,
      }),
    );
    prepared.set(key, promise);
    promise.catch(() => {
      if (prepared.get(key) === promise) prepared.delete(key);
    });
    return promise;
  };
}
