import { describe } from 'vitest';
import { createDockerProvider } from '../../src/environments/docker.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { engineGate } from '../environments/docker-engine.js';
import { secretFormsRules } from './secret-forms.js';

const runs = await engineGate('secrets in every form on the Docker provider');

describe.runIf(runs)('secrets in every form, on the Docker provider', () => {
  let provider: EnvironmentProvider | undefined;
  secretFormsRules(() => (provider ??= createDockerProvider()));
});
