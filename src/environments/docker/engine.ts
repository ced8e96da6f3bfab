import Docker from 'dockerode';
import { errorMessage, InfraError } from '../../errors.js';

/** The engine client: `DOCKER_HOST` when set (unix://, tcp://, ssh://), else /var/run/docker.sock. */
export function createEngineClient(): Docker {
  return new Docker();
}

export const ENGINE_HINT =
  'start a Docker engine (on Debian: `bash scripts/setup/docker.sh` installs docker.io and starts dockerd), or point DOCKER_HOST at one';

/** Resolves when the engine answers `/_ping` within `timeoutMs`; throws InfraError saying what to do otherwise. */
export async function pingEngine(docker: Docker, timeoutMs = 5_000): Promise<void> {
  try {
    // The typings lack ping's options; the modem honours abortSignal (a hung socket must not hang preflight).
    const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    throw new InfraError(`no Docker engine answers at ${where}: ${errorMessage(error)}`, {
      cause: error,
      hint: ENGINE_HINT,
    });
  }
}

export function httpStatus(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? Number((error as { statusCode: unknown }).statusCode)
    : undefined;
}
