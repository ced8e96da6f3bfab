import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import type { ChatMessage, GoldLookup } from '../model.js';

/** `{match, completion}` lines: the gold canary answers `completion` to a prompt that contains `match`. */
export async function loadGoldFile(path: string): Promise<GoldLookup> {
  const entries = (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const value = JSON.parse(line) as { match?: unknown; completion?: unknown };
      if (typeof value.match !== 'string' || typeof value.completion !== 'string')
        throw new UsageError(`${path}:${index + 1}: expected {"match": string, "completion": string}`);
      return { match: value.match, completion: value.completion };
    });
  return (messages: ChatMessage[]) => {
    const text = messages.map((m) => m.content).join('\n');
    return entries.find((entry) => text.includes(entry.match))?.completion;
  };
}
