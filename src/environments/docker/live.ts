import type Docker from 'dockerode';
import { httpStatus } from './engine.js';

/**
 * Every container this process created and has not removed yet. A signal handler (installed once by the CLI)
 * removes them on SIGINT/SIGTERM, so an interrupted job leaves nothing running. SIGKILL cannot be caught:
 * `skill-eval cleanup` removes what is left after one (every container carries the `skill-eval=1` label).
 */
const live = new Map<string, { docker: Docker; name: string }>();

export function trackContainer(docker: Docker, id: string, name: string): void {
  live.set(id, { docker, name });
}

export function untrackContainer(id: string): void {
  live.delete(id);
}

/** Names of the containers this process still owns. */
export function liveContainerNames(): string[] {
  return [...live.values()].map((entry) => entry.name);
}

/** Force-removes every live container (in parallel, bounded in time); returns how many were removed. */
export async function removeLiveContainers(timeoutMs = 15_000): Promise<number> {
  const entries = [...live.entries()];
  let removed = 0;
  const work = Promise.all(
    entries.map(async ([id, { docker }]) => {
      try {
        await docker.getContainer(id).remove({ force: true, v: true });
        removed++;
      } catch (error) {
        if (httpStatus(error) === 404) removed++; // already gone
      }
      live.delete(id);
    }),
  );
  await Promise.race([work, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  return removed;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
let installed: (() => void) | undefined;

export interface SignalCleanupOptions {
  signals?: NodeJS.Signals[] | undefined;
  /** Called with how many containers were removed (for a message). */
  onCleanup?: ((removed: number, signal: NodeJS.Signals) => void) | undefined;
}

/**
 * On SIGINT/SIGTERM/SIGHUP, removes every container this process still owns. When no other handler listens
 * for that signal, the process then exits with 128+signal (the default behaviour the handler replaced);
 * otherwise exiting is left to the other handler (e.g. the CLI's graceful cancel). A second signal during the
 * cleanup exits at once. Idempotent; returns an uninstaller.
 */
export function installSignalCleanup(options: SignalCleanupOptions = {}): () => void {
  if (installed) return installed;
  const signals = options.signals ?? ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let cleaning = false;
  const handler = (signal: NodeJS.Signals): void => {
    const code = 128 + (SIGNAL_NUMBERS[signal] ?? 1);
    if (cleaning) process.exit(code);
    cleaning = true;
    const othersHandleExit = process.listenerCount(signal) > 1;
    void removeLiveContainers().then((removed) => {
      options.onCleanup?.(removed, signal);
      cleaning = false;
      if (!othersHandleExit) process.exit(code);
    });
  };
  for (const signal of signals) process.on(signal, handler);
  installed = () => {
    for (const signal of signals) process.off(signal, handler);
    installed = undefined;
  };
  return installed;
}
