/** How long a timed-out agent gets to stop on its own before the trial stops waiting for it. */
const GRACE_MS = 5_000;

/**
 * The agent's own timeout, enforced here whatever the agent does with its signal: at the deadline the signal
 * aborts and, after a grace period, `race` stops waiting; a cancel aborts the signal and stops waiting at once.
 */
export class AgentDeadline {
  /** Aborted on timeout and on cancel: the agent's signal. */
  readonly signal: AbortSignal;
  #expired = false;
  readonly #timer: NodeJS.Timeout;
  readonly #stopped: Promise<'timeout' | 'cancel'>;
  readonly #onCancel: () => void;
  readonly #onHalt: () => void;

  /** `halt`: the model gateway stopped the agent (budget, replay miss): handled like the deadline, without expiring. */
  constructor(
    timeoutMs: number,
    private readonly cancel?: AbortSignal,
    private readonly halt?: AbortSignal,
  ) {
    const timeout = new AbortController();
    this.signal = cancel ? AbortSignal.any([cancel, timeout.signal]) : timeout.signal;
    let stopWaiting: (why: 'timeout' | 'cancel') => void = () => undefined;
    this.#stopped = new Promise((resolve) => {
      stopWaiting = resolve;
    });
    this.#timer = setTimeout(() => {
      this.#expired = true;
      timeout.abort(new Error('agent timeout'));
      setTimeout(() => stopWaiting('timeout'), GRACE_MS).unref();
    }, timeoutMs);
    this.#onCancel = () => stopWaiting('cancel');
    this.#onHalt = () => {
      timeout.abort(new Error('stopped by the model gateway'));
      setTimeout(() => stopWaiting('timeout'), GRACE_MS).unref();
    };
    if (halt?.aborted) this.#onHalt();
    else halt?.addEventListener('abort', this.#onHalt, { once: true });
    // A signal aborted before the agent starts fires no event: stop waiting at once.
    if (cancel?.aborted) this.#onCancel();
    else cancel?.addEventListener('abort', this.#onCancel, { once: true });
  }

  /** Whether the deadline passed (the agent may still have finished within the grace period). */
  get expired(): boolean {
    return this.#expired;
  }

  /** The agent's run, or 'timeout' / 'cancel' when the trial stopped waiting for it. */
  race<T>(run: Promise<T>): Promise<T | 'timeout' | 'cancel'> {
    return Promise.race([run, this.#stopped]);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.cancel?.removeEventListener('abort', this.#onCancel);
    this.halt?.removeEventListener('abort', this.#onHalt);
  }
}
