import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic-write.js';

/**
 * provenance.json beside an agent-touched contract: who changed which file, when, why, and whether a
 * person has accepted the result. A contract without provenance.json was written by a person.
 */
export const PROVENANCE_FILE = 'provenance.json';

const changeSchema = z.object({
  path: z.string(),
  action: z.enum(['created', 'modified', 'deleted']),
  sha256_before: z.string().optional(),
  sha256_after: z.string().optional(),
  by: z.string(),
  at: z.string(),
  iteration: z.number().int().optional(),
  reason: z.string(),
});
export type ProvenanceChange = z.infer<typeof changeSchema>;

const violationSchema = z.object({
  path: z.string(),
  action: z.enum(['created', 'modified', 'deleted']),
  restored: z.boolean(),
  by: z.string(),
  at: z.string(),
  iteration: z.number().int().optional(),
});
export type ScopeViolation = z.infer<typeof violationSchema>;

const provenanceSchema = z.object({
  schema: z.literal('skill-eval/contract-provenance@1'),
  reviewed: z.boolean(),
  /** sha256 of contract.yaml when a person accepted it; a later edit makes it unreviewed again. */
  accepted_digest: z.string().optional(),
  accepted_at: z.string().optional(),
  accepted_by: z.string().optional(),
  changes: z.array(changeSchema),
  violations: z.array(violationSchema).default([]),
});
export type Provenance = z.infer<typeof provenanceSchema>;

export async function readProvenance(contractDir: string): Promise<Provenance | undefined> {
  try {
    const parsed = provenanceSchema.safeParse(JSON.parse(await readFile(join(contractDir, PROVENANCE_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeProvenance(contractDir: string, provenance: Provenance): Promise<void> {
  await writeJsonAtomic(join(contractDir, PROVENANCE_FILE), provenance);
}

/** Whether the contract with this digest is reviewed: no agent touched it, or a person accepted exactly it. */
export function isReviewed(provenance: Provenance | undefined, digest: string): boolean {
  if (!provenance) return true;
  return provenance.reviewed && provenance.accepted_digest === digest;
}
