import type { Problem } from '../errors.js';

/** A skill folder: SKILL.md with Agent Skills frontmatter, plus optional scripts/ and references/. */
export interface Skill {
  name: string;
  description: string;
  /** Absolute path of the skill folder on the host. */
  dir: string;
  /** Which layout it was found in: `skills/<name>` (skill-eval) or `environment/skills/<name>` (SkillsBench). */
  layout: 'skill-eval' | 'skillsbench';
  license?: string | undefined;
  compatibility?: string | undefined;
  allowedTools?: string[] | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Number of files in the folder (recursively). */
  fileCount: number;
  bytes: number;
  /** sha256 over (relative path, content) of every file in the folder, hex. */
  sha256: string;
  warnings: Problem[];
}

/** The part of a skill that goes into results. */
export interface SkillDigest {
  name: string;
  description: string;
  fileCount: number;
  bytes: number;
  sha256: string;
}

export function skillDigest(skill: Skill): SkillDigest {
  return {
    name: skill.name,
    description: skill.description,
    fileCount: skill.fileCount,
    bytes: skill.bytes,
    sha256: skill.sha256,
  };
}
