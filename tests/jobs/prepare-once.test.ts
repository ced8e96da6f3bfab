import { describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agents/types.js';
import type { EnvironmentProvider, PrepareContext, PreparedEnvironment } from '../../src/environments/types.js';
import { prepareOnce } from '../../src/jobs/prepare-once.js';
import type { Task } from '../../src/task/types.js';

const task = (name: string): Task => ({ name, dir: `/tasks/${name}` }) as Task;

function agent(name: string, layered: boolean, built: string[]): Agent {
  return {
    name,
    imageLayer: layered
      ? async () => {
          built.push(name);
          return { key: `${name}-1`, dockerfileLines: [] };
        }
      : undefined,
  } as Agent;
}

/** A provider that records every prepare (task and layer keys) and fails the first `failures` of them. */
function recordingProvider(usesImages: boolean, failures = 0): EnvironmentProvider & { calls: string[] } {
  const calls: string[] = [];
  let failed = 0;
  return {
    name: 'fake',
    usesImages,
    calls,
    preflight: async () => {},
    createWorkspace: async () => {
      throw new Error('not used');
    },
    prepare: async (t: Task, context: PrepareContext): Promise<PreparedEnvironment> => {
      calls.push([t.name, ...(context.layers ?? []).map((l) => l.key)].join('+'));
      if (failed < failures) {
        failed += 1;
        throw new Error('build failed');
      }
      return { task: t, handle: {}, built: true, notes: [] };
    },
  };
}

const options = { jobId: 'job', forceBuild: false, log: () => {} };

describe('prepareOnce', () => {
  it('prepares each task once per agent image layer, builds each layer once, and tells later callers nothing was built', async () => {
    const layersBuilt: string[] = [];
    const provider = recordingProvider(true);
    const tasks = [task('a'), task('b')];
    const prepare = prepareOnce({ ...options, provider, tasks });
    const claude = agent('claude', true, layersBuilt);
    const oracle = agent('oracle', false, layersBuilt);
    const results = await Promise.all([
      prepare(tasks[0]!, claude),
      prepare(tasks[0]!, claude),
      prepare(tasks[1]!, claude),
      prepare(tasks[0]!, oracle),
      prepare(tasks[0]!, oracle),
    ]);
    expect(provider.calls.sort()).toEqual(['a', 'a+claude-1', 'b+claude-1']);
    expect(layersBuilt).toEqual(['claude']);
    expect(results.map((r) => r.built)).toEqual([true, false, true, true, false]);
  });

  it('shares one preparation of a task between agents when the provider has no images', async () => {
    const layersBuilt: string[] = [];
    const provider = recordingProvider(false);
    const tasks = [task('a')];
    const prepare = prepareOnce({ ...options, provider, tasks });
    await prepare(tasks[0]!, agent('claude', true, layersBuilt));
    await prepare(tasks[0]!, agent('oracle', false, layersBuilt));
    expect(provider.calls).toEqual(['a']);
    expect(layersBuilt).toEqual([]);
  });

  it('forgets a failed preparation, so the next trial tries again', async () => {
    const provider = recordingProvider(false, 1);
    const tasks = [task('a')];
    const prepare = prepareOnce({ ...options, provider, tasks });
    const nop = agent('nop', false, []);
    await expect(prepare(tasks[0]!, nop)).rejects.toThrow('build failed');
    await expect(prepare(tasks[0]!, nop)).resolves.toMatchObject({ built: true });
    await prepare(tasks[0]!, nop);
    expect(provider.calls).toEqual(['a', 'a']);
  });
});
