import type { z } from 'zod';
import { errorMessage } from '../errors.js';
import { type CompleteRequest, type Completion, complete, type WireExchange } from './client.js';

/** One call as the record keeps it. */
export interface Attempt {
  exchange: WireExchange;
  duration_ms: number;
  /** Why this attempt did not count (HTTP error, invalid answer). */
  error?: string | undefined;
}

export type JsonAnswer<T> =
  | { ok: true; value: T; attempts: Attempt[]; usage?: Completion['usage'] }
  | { ok: false; message: string; attempts: Attempt[] };

/** The JSON object in a model's answer: the whole text, a ```json block, or the outermost `{…}`. */
export function extractJsonObject(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1];
  const candidates = [text, fenced, text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)];
  for (const candidate of candidates) {
    if (!candidate?.trim()) continue;
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // the next form
    }
  }
  return undefined;
}

/**
 * Asks for a JSON answer checked by `schema`; an answer that does not fit gets one more try, told what was
 * wrong. A transport failure is not retried (the judge's verdict would depend on luck). Never throws.
 */
export async function completeJson<T>(
  request: CompleteRequest,
  schema: z.ZodType<T>,
  options: { retries?: number } = {},
): Promise<JsonAnswer<T>> {
  const attempts: Attempt[] = [];
  let prompt = request.prompt;
  const tries = 1 + (options.retries ?? 1);
  let lastProblem = '';
  for (let attempt = 0; attempt < tries; attempt++) {
    const started = performance.now();
    let exchange: WireExchange = { url: '', body: undefined };
    const record = (error?: string): void => {
      attempts.push({ exchange, duration_ms: Math.round(performance.now() - started), error });
    };
    let completion: Completion;
    try {
      completion = await complete({ ...request, prompt }, (seen) => {
        exchange = seen;
      });
    } catch (error) {
      record(errorMessage(error));
      return { ok: false, message: errorMessage(error), attempts };
    }
    const parsed = schema.safeParse(extractJsonObject(completion.text));
    if (parsed.success) {
      record();
      return { ok: true, value: parsed.data, attempts, usage: completion.usage };
    }
    lastProblem = `expected a JSON object ${describeSchemaIssues(parsed.error)}, found ${JSON.stringify(completion.text.slice(0, 200))}`;
    record(lastProblem);
    prompt = `${request.prompt}\n\nYour previous answer was not valid: ${lastProblem}. Answer with the JSON object only.`;
  }
  return { ok: false, message: `invalid answer after ${tries} tries: ${lastProblem}`, attempts };
}

function describeSchemaIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return '';
  return `(${issue.path.length > 0 ? issue.path.join('.') : 'answer'}: ${issue.message})`;
}
