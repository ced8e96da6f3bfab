import { describe } from 'vitest';
import { createDockerProvider } from '../../src/environments/docker.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { engineGate } from '../environments/docker-engine.js';
import { lifecycleRules } from './lifecycle.js';

const runs = await engineGate('trial lifecycle on the Docker provider');

// The same rules as on the local provider, against the real engine: one provider (one image cache) for the file.
describe.runIf(runs)('trial lifecycle on the Docker provider', () => {
  let provider: EnvironmentProvider | undefined;
  lifecycleRules(() => (provider ??= createDockerProvider()));
});
