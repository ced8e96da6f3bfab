import type { Redactor } from '../trial/secrets.js';
import type { JobEvent } from './run-job.js';

export interface ProgressOptions {
  quiet: boolean;
  redactor: Redactor;
  write?: ((line: string) => void) | undefined;
}

function formatSeconds(ms: number): string {
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
      const resumed = event.alreadyDone > 0 ? ` (${event.alreadyDone} already done, resuming)` : '';
      write(`${total} trials planned${resumed}`);
    } else if (event.type === 'log') {
      write(options.redactor.redact(`  [${event.task}] ${event.line}`));
    } else if (event.type === 'trial-end' && !event.resumed) {
      done += 1;
      const r = event.result;
      const reward = r.reward === undefined ? 'no reward' : `reward=${r.reward}`;
      const why = r.error ? ` — ${r.error.message}` : '';
      const model = r.model ? `/${r.model}` : '';
      write(options.redactor.redact(`[${done}/${total}] ${r.task} ${r.agent}${model} ${r.arm} #${r.trial_index} ${r.status} ${reward} (${formatSeconds(r.timings.total_ms)})${why}`));
    }
  };
}
