/**
 * The JSON objects of a JSONL text, and how many non-empty lines were not one (a torn last line after a crash,
 * a line of other JSON). Shared by the readers of session logs, samples files and model-call logs.
 */
export function jsonObjectLines(text: string): { objects: Array<Record<string, unknown>>; bad: number } {
  const objects: Array<Record<string, unknown>> = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        objects.push(value as Record<string, unknown>);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { objects, bad };
}
