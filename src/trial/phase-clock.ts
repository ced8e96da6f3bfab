import type { SessionLog } from '../util/session-log.js';

/** The lifecycle's phases, as named in session.jsonl, in progress events and in `timings.phases` (`<phase>_ms`). */
export type TrialPhase =
  | 'environment_setup'
  | 'self_generate'
  | 'skills'
  | 'agent'
  | 'audit'
  | 'archive'
  | 'verifier'
  | 'collect'
  | 'cleanup';

/**
 * Runs the lifecycle's phases one at a time: times each, logs its start and end, reports it as progress, and
 * keeps track of the phase under way — the one an infrastructure error is put down to.
 */
export class PhaseClock {
  /** `<phase>_ms` → duration, in the order the phases ended (as result.json lists them). */
  readonly timings: Record<string, number> = {};
  #current: TrialPhase = 'environment_setup';

  constructor(
    private readonly log: SessionLog,
    private readonly onPhase?: (phase: string) => void,
  ) {}

  /**
   * The phase entered last. Work done between two phases (the oracle's solution upload) belongs to the one
   * before it, as it always has: it finishes that phase's set-up.
   */
  get current(): TrialPhase {
    return this.#current;
  }

  async run<T>(phase: TrialPhase, body: () => Promise<T>): Promise<T> {
    this.#current = phase;
    const started = performance.now();
    this.onPhase?.(phase);
    this.log.record({ type: 'phase', phase, state: 'start' });
    try {
      return await body();
    } finally {
      const durationMs = Math.round(performance.now() - started);
      this.timings[`${phase}_ms`] = (this.timings[`${phase}_ms`] ?? 0) + durationMs;
      this.log.record({ type: 'phase', phase, state: 'end', durationMs });
    }
  }

  /** A duration measured inside the running phase (log collection is part of verification). */
  record(phase: TrialPhase, durationMs: number): void {
    this.timings[`${phase}_ms`] = durationMs;
  }
}
