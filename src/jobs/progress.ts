import type { Redactor } from '../util/secrets.js';
import { createLiveProgress } from './progress-live.js';
import type { JobEvent } from './run-job.js';

/** What the eval command talks to while a job runs; every byte it writes goes through the redactor. */
export interface ProgressReporter {
  onEvent(event: JobEvent): void;
  /** A message for the user (cancel notices): printed above a live display, as a plain line otherwise. */
  note(line: string): void;
  /** Ends the display: the final counters stay on screen, the cursor comes back. Idempotent. */
  stop(options?: { cancelled?: boolean | undefined }): void;
}

export type ProgressMode = 'live' | 'lines' | 'quiet';

export interface ProgressOptions {
  quiet: boolean;
  redactor: Redactor;
  write?: ((line: string) => void) | undefined;
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Live display only for a person at a terminal: stderr is a TTY, not CI, not a dumb terminal. */
export function chooseProgressMode(options: {
  quiet: boolean;
  isTTY: boolean | undefined;
  env: NodeJS.ProcessEnv;
}): ProgressMode {
  if (options.quiet) return 'quiet';
  if (!options.isTTY || isSet(options.env.CI) || options.env.TERM === 'dumb') return 'lines';
  return 'live';
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** One plain line per finished trial (CI, pipes): `[3/10] superlint_demo oracle with-skills #3 passed reward=1 (1.2s)`. */
export function createLineProgress(options: ProgressOptions): (event: JobEvent) => void {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let total = 0;
  let done = 0;
  return (event) => {
    if (options.quiet) return;
    if (event.type === 'planned') {
      total = event.total;
      const reused = event.reused ?? 0;
      const earlier = event.alreadyDone - reused;
      const parts = [
        ...(earlier > 0 ? [`${earlier} already done, resuming`] : []),
        ...(reused > 0 ? [`${reused} reused from an earlier job`] : []),
      ];
      const resumed = parts.length > 0 ? ` (${parts.join('; ')})` : '';
      write(`${event.upTo ? 'up to ' : ''}${total} trials planned${event.upTo ? ' (--trials auto)' : ''}${resumed}`);
    } else if (event.type === 'log') {
      write(options.redactor.redact(`  [${event.task}] ${event.line}`));
    } else if (event.type === 'trial-end' && !event.resumed) {
      done += 1;
      const r = event.result;
      const reward = r.reward === undefined ? 'no reward' : `reward=${r.reward}`;
      const why = r.error ? ` — ${r.error.message}` : '';
      const model = r.model ? `/${r.model}` : '';
      write(
        options.redactor.redact(
          `[${done}/${total}] ${r.task} ${r.agent}${model} ${r.arm} #${r.trial_index} ${r.status} ${reward} (${formatSeconds(r.timings.total_ms)})${why}`,
        ),
      );
    }
  };
}

/** The reporter for a mode: live display (TTY), plain lines (CI, pipes) or nothing (--quiet). */
export function createProgressReporter(
  mode: ProgressMode,
  options: { redactor: Redactor; concurrency: number; stream?: NodeJS.WriteStream | undefined },
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (mode === 'live')
    return createLiveProgress({ stream, redactor: options.redactor, concurrency: options.concurrency });
  if (mode === 'quiet') return { onEvent: () => undefined, note: () => undefined, stop: () => undefined };
  const write = (line: string): void => {
    stream.write(`${options.redactor.redact(line)}\n`);
  };
  return {
    onEvent: createLineProgress({ quiet: false, redactor: options.redactor, write }),
    note: write,
    stop: () => undefined,
  };
}
