export interface CancelSignalOptions {
  /** First Ctrl-C or SIGTERM: stop scheduling, let running trials clean up. */
  onCancel: (signal: NodeJS.Signals) => void;
  /** Second one: the user wants out now. Must not return (process.exit). */
  onForce: (signal: NodeJS.Signals) => void;
  signals?: readonly NodeJS.Signals[] | undefined;
}

/**
 * Graceful cancel for a running job: the first SIGINT/SIGTERM asks for a clean stop, any further one forces
 * the exit. Returns a function that restores the default behaviour.
 */
export function handleCancelSignals(options: CancelSignalOptions): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  let received = 0;
  const listener = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) options.onCancel(signal);
    else options.onForce(signal);
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}
