import { UsageError } from '../errors.js';
import { createLocalProvider } from './local.js';
import type { EnvironmentProvider } from './types.js';

export interface ProviderOptions {
  forceBuild?: boolean | undefined;
}

/** Every environment provider, by the name users type (`--provider=…`). Docker is loaded lazily: it pulls in the engine client. */
export const providers = {
  local: async (_options: ProviderOptions): Promise<EnvironmentProvider> => createLocalProvider(),
  docker: async (options: ProviderOptions): Promise<EnvironmentProvider> => {
    const { createDockerProvider } = await import('./docker.js');
    return createDockerProvider(options);
  },
} satisfies Record<string, (options: ProviderOptions) => Promise<EnvironmentProvider>>;

export type ProviderName = keyof typeof providers;

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(providers, name);
}

export async function createProvider(name: string, options: ProviderOptions = {}): Promise<EnvironmentProvider> {
  if (!isProviderName(name)) {
    throw new UsageError(`unknown provider "${name}"`, { hint: `known providers: ${Object.keys(providers).join(', ')}` });
  }
  return providers[name](options);
}
