import type { z } from 'zod';

/** Splits a chunked byte stream into lines; a partial last line is kept until the next chunk (or `flush`). */
export class LineSplitter {
  private pending = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    this.pending += chunk;
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      const line = this.pending.slice(0, newline).replace(/\r$/, '');
      this.pending = this.pending.slice(newline + 1);
      if (line.trim() !== '') this.onLine(line);
      newline = this.pending.indexOf('\n');
    }
  }

  flush(): void {
    const rest = this.pending.trim();
    this.pending = '';
    if (rest !== '') this.onLine(rest);
  }
}

/** Parses one JSONL line; undefined for lines that are not JSON (CLIs print the odd warning to stdout). */
export function parseJsonLine(line: string): unknown {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Validates one event of a CLI's stream at the edge. Unknown event types are not errors (CLIs add events in
 * every release): they are returned as undefined and left alone.
 */
export function parseEvent<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Tool results arrive as a string or as content blocks; this flattens both to text. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block) => {
        if (typeof block === 'string') return block;
        if (
          block &&
          typeof block === 'object' &&
          'text' in block &&
          typeof (block as { text: unknown }).text === 'string'
        )
          return (block as { text: string }).text;
        return '';
      })
      .filter((text) => text !== '')
      .join('\n');
  }
  if (content === undefined || content === null) return '';
  return JSON.stringify(content);
}
