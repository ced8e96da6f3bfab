import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ModelCallRecord } from './types.js';

/**
 * model_calls.jsonl, appended one line per call in the order calls end. Appends are chained so lines never
 * interleave; a failed write is kept and rethrown by flush() (the trial's record would be incomplete).
 */
export class CallsLog {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(private readonly file: string | undefined) {
    if (file) this.chain = mkdir(dirname(file), { recursive: true }).then(() => undefined);
  }

  append(record: ModelCallRecord): void {
    const file = this.file;
    if (!file) return;
    const line = `${JSON.stringify(record)}\n`;
    this.chain = this.chain.then(() =>
      appendFile(file, line).catch((error: unknown) => {
        this.failure ??= error;
      }),
    );
  }

  async flush(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }
}
