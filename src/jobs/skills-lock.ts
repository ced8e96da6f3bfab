import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { skillSourceSchema } from '../results/schema.js';
import type { FlagSkill } from '../skills/sources.js';
import { writeJsonAtomic } from '../util/atomic-write.js';

/**
 * `skills.lock.json` in the job directory: every `--skill` skill the job injects, with where it came from (path,
 * or git URL + ref + subdir + commit) and the sha256 of its files. Written when the job starts; a resumed job
 * fetches its git skills at these commits again.
 */
export const SKILLS_LOCK_FILE = 'skills.lock.json';

const lockedSkillSchema = z.object({
  name: z.string(),
  /** The `--skill` value, canonical (local paths absolute). */
  spec: z.string(),
  source: skillSourceSchema,
  /** sha256 over (relative path, mode, content) of the skill folder's files. */
  sha256: z.string(),
  files: z.number(),
  bytes: z.number(),
});

export const skillsLockSchema = z.object({
  schema: z.literal('skill-eval/skills-lock@1'),
  job_id: z.string(),
  created_at: z.string(),
  /** The `--skill` values in the order given. */
  specs: z.array(z.string()),
  skills: z.array(lockedSkillSchema),
});

export type SkillsLock = z.infer<typeof skillsLockSchema>;

export function skillsLock(
  jobId: string,
  createdAt: string,
  specs: string[],
  skills: readonly FlagSkill[],
): SkillsLock {
  return {
    schema: 'skill-eval/skills-lock@1',
    job_id: jobId,
    created_at: createdAt,
    specs,
    skills: skills.map(({ spec, skill }) => ({
      name: skill.name,
      spec,
      source: skill.source,
      sha256: skill.sha256,
      files: skill.fileCount,
      bytes: skill.bytes,
    })),
  };
}

export async function writeSkillsLock(jobDir: string, lock: SkillsLock): Promise<void> {
  await writeJsonAtomic(join(jobDir, SKILLS_LOCK_FILE), lock);
}

export async function readSkillsLock(jobDir: string): Promise<SkillsLock> {
  return skillsLockSchema.parse(JSON.parse(await readFile(join(jobDir, SKILLS_LOCK_FILE), 'utf8')));
}
