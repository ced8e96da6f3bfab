import { z } from 'zod';
import { type TrialResult, trialResultSchema } from './schema.js';

/** Every result file is checked here, against the one schema of each format, and a rejection says why in zod's words. */

const legacyTrialSchema = z.looseObject({
  trial_id: z.union([z.number(), z.string()]),
  reward: z.number(),
  duration_ms: z.number().optional(),
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
});

/** The original skill-eval's EvalReport (one per task × skills on/off run). */
const legacyReportSchema = z.looseObject({
  task: z.string().min(1),
  pass_rate: z.number(),
  trials: z.array(legacyTrialSchema),
  skills_used: z.array(z.string()).default([]),
});

export type LegacyReport = z.infer<typeof legacyReportSchema>;

export type Validated<T> = { ok: true; data: T } | { ok: false; reason: string };

export function validateTrialResult(data: unknown): Validated<TrialResult> {
  const parsed = trialResultSchema.safeParse(data);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, reason: `invalid trial result: ${describeIssues(parsed.error)}` };
}

export function validateLegacyReport(data: unknown): Validated<LegacyReport> {
  const parsed = legacyReportSchema.safeParse(data);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, reason: `invalid EvalReport: ${describeIssues(parsed.error)}` };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
