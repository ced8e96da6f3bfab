import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { CallUsage, GatewayProtocol } from './types.js';
import { type UsageReader, usageReader } from './usage.js';

/** How much of a response body is kept for model_calls.jsonl; a longer one is cut and marked (not replayable). */
export const RESPONSE_CAP_BYTES = 16 * 1024 * 1024;

/**
 * Watches a response body as its chunks pass to the agent: SSE events go through a parser into the usage
 * reader as they arrive; a JSON body is read when it ends. The bytes themselves are never held back.
 */
export class ResponseTap {
  private readonly reader: UsageReader;
  private readonly parser: EventSourceParser | undefined;
  private readonly decoder = new TextDecoder();
  private text = '';
  private bytes = 0;
  private truncated = false;

  constructor(
    protocol: GatewayProtocol,
    private readonly sse: boolean,
    private readonly cap = RESPONSE_CAP_BYTES,
  ) {
    this.reader = usageReader(protocol);
    if (sse) this.parser = createParser({ onEvent: (event) => this.reader.event(event.data, event.event) });
  }

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    this.parser?.feed(text);
    this.keep(text, chunk.byteLength);
  }

  end(): void {
    const rest = this.decoder.decode();
    this.parser?.feed(rest);
    this.keep(rest, Buffer.byteLength(rest));
    if (!this.sse && !this.truncated) {
      const body = parseJson(this.text);
      if (body !== undefined) this.reader.json(body);
    }
  }

  private keep(text: string, size: number): void {
    if (this.truncated || text === '') return;
    if (this.bytes + size > this.cap) {
      this.truncated = true;
      return;
    }
    this.text += text;
    this.bytes += size;
  }

  usage(): CallUsage | undefined {
    return this.reader.usage();
  }

  model(): string | undefined {
    return this.reader.model();
  }

  /** The body as recorded: SSE as its raw text, JSON parsed, anything else as text. */
  recorded(): { response: unknown; truncated: boolean } {
    if (this.sse || this.truncated) return { response: this.text, truncated: this.truncated };
    return { response: parseJson(this.text) ?? this.text, truncated: false };
  }
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
