import { describe, expect, it } from 'vitest';
import { createProvider } from '../../src/environments/registry.js';
import { UsageError } from '../../src/errors.js';

describe('createProvider', () => {
  it('refuses the Docker-only options on the local provider, each naming its flag', async () => {
    await expect(createProvider('local', { network: 'host' })).rejects.toThrow(
      new UsageError(
        '--network applies to the Docker provider only: the local provider follows task.toml (offline tasks get loopback only in its sandbox)',
      ),
    );
    await expect(createProvider('local', { runtime: 'runsc' })).rejects.toThrow(
      '--runtime applies to the Docker provider only',
    );
  });

  it('names the known providers for an unknown one', async () => {
    await expect(createProvider('kubernetes')).rejects.toThrow(
      expect.objectContaining({ message: 'unknown provider "kubernetes"', hint: 'known providers: local, docker' }),
    );
  });
});
