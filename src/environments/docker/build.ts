import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { errorMessage, InfraError, InterruptedError } from '../../errors.js';

/** Lines of build output quoted in a failed build's error. */
const TAIL_LINES = 20;

export interface BuildRequest {
  context: Readable;
  /** Dockerfile path inside the context. */
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
  buildArgs?: Record<string, string> | undefined;
  /** Bypass the engine's layer cache (forced rebuilds). */
  noCache: boolean;
  /** Network for RUN steps (`host` where the bridge has no egress); the engine's default when undefined. */
  networkMode?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  log: (line: string) => void;
}

class Tail {
  private readonly lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

interface BuildMessage {
  stream?: string;
  status?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Builds an image through the engine API (classic builder) and streams its output to `log`. The build is
 * aborted (the HTTP request is closed, which makes the engine cancel it) after `timeoutMs` or on `signal`.
 * Throws InfraError with the last output lines when the build fails.
 */
export async function buildImage(docker: Docker, request: BuildRequest): Promise<{ imageId: string | undefined }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('build timeout'));
  }, request.timeoutMs);
  const onAbort = (): void => controller.abort(new Error('cancelled'));
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted) onAbort();

  const tail = new Tail();
  const emit = (text: string): void => {
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      tail.push(line);
      request.log(line);
    }
  };
  let imageId: string | undefined;
  let failure: string | undefined;

  try {
    const response = (await docker.buildImage(request.context, {
      t: request.tag,
      dockerfile: request.dockerfile,
      labels: request.labels,
      buildargs: request.buildArgs,
      nocache: request.noCache,
      rm: true,
      forcerm: true,
      ...(request.networkMode ? { networkmode: request.networkMode } : {}),
      abortSignal: controller.signal,
    })) as Readable;
    let pending = '';
    for await (const chunk of response) {
      pending += chunk.toString('utf8');
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line === '') continue;
        let message: BuildMessage;
        try {
          message = JSON.parse(line) as BuildMessage;
        } catch {
          emit(line);
          continue;
        }
        if (message.stream) emit(message.stream);
        if (message.status) emit([message.status, message.progress].filter(Boolean).join(' '));
        if (message.aux?.ID) imageId = message.aux.ID;
        if (message.error || message.errorDetail?.message) {
          failure = message.errorDetail?.message ?? message.error;
          emit(`ERROR: ${failure}`);
        }
      }
    }
  } catch (error) {
    if (request.signal?.aborted && !timedOut)
      throw new InterruptedError(`build of ${request.tag} cancelled`, { cause: error });
    if (timedOut) {
      throw new InfraError(
        `building ${request.tag} exceeded build_timeout_sec (${Math.round(request.timeoutMs / 1000)} s); the build was aborted\n${tail.toString()}`,
        {
          cause: error,
          retryable: false,
          hint: 'raise [environment].build_timeout_sec in task.toml, or make the build faster',
        },
      );
    }
    throw new InfraError(`building ${request.tag} failed: ${errorMessage(error)}\n${tail.toString()}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }

  if (failure !== undefined) {
    const missingBase =
      /pull access denied|repository does not exist|no such host|dial tcp|connection refused|not found: manifest unknown/i.test(
        failure,
      );
    throw new InfraError(
      `building ${request.tag} failed: ${failure}\n--- last ${TAIL_LINES} lines of the build ---\n${tail.toString()}`,
      {
        retryable: false,
        hint: missingBase
          ? 'the FROM image must exist in the engine (no registry is reachable here): `skill-eval images build-base` builds skill-eval/base:bookworm'
          : 'fix environment/Dockerfile; the whole build log is in the job log',
      },
    );
  }
  return { imageId };
}
