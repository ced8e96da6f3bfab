import { UsageError } from '../errors.js';
import { createLocalProvider } from './local.js';
import type { EnvironmentProvider } from './types.js';

export interface ProviderOptions {
  forceBuild?: boolean | undefined;
  /** Docker network mode for every trial, replacing task.toml's policy. */
  network?: string | undefined;
  /** Docker engine runtime for every trial container (`runsc`: gVisor). */
  runtime?: string | undefined;
}

/** Every environment provider, by the name users type (`--provider=…`). Docker is loaded lazily: it pulls in the engine client. */
export const providers = {
  local: async (options: ProviderOptions): Promise<EnvironmentProvider> => {
    if (options.network !== undefined)
      throw new UsageError(
        '--network applies to the Docker provider only: the local provider follows task.toml (offline tasks get loopback only in its sandbox)',
      );
    if (options.runtime !== undefined)
      throw new UsageError(
        '--runtime applies to the Docker provider only: the local provider runs trials in its bubblewrap sandbox',
      );
    return createLocalProvider();
  },
  docker: async (options: ProviderOptions): Promise<EnvironmentProvider> => {
    const { createDockerProvider } = await import('./docker.js');
    return createDockerProvider({
      forceBuild: options.forceBuild,
      networkOverride: options.network,
      runtime: options.runtime,
    });
  },
} satisfies Record<string, (options: ProviderOptions) => Promise<EnvironmentProvider>>;

export type ProviderName = keyof typeof providers;

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(providers, name);
}

export async function createProvider(name: string, options: ProviderOptions = {}): Promise<EnvironmentProvider> {
  if (!isProviderName(name)) {
    throw new UsageError(`unknown provider "${name}"`, {
      hint: `known providers: ${Object.keys(providers).join(', ')}`,
    });
  }
  return providers[name](options);
}
