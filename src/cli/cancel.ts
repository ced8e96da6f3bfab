import { EXIT_CODES } from '../errors.js';
import { handleCancelSignals } from '../jobs/signals.js';

/**
 * Runs a command's work with Ctrl-C handled as `eval` does: the first one aborts the signal (running trials stop
 * and clean up), the second exits at once.
 */
export async function withCancel<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = handleCancelSignals({
    onCancel: () => {
      console.error('stopping: running trials are being stopped and cleaned up (press Ctrl-C again to force)');
      controller.abort();
    },
    onForce: () => process.exit(EXIT_CODES.interrupted),
  });
  try {
    return await work(controller.signal);
  } finally {
    stop();
  }
}
