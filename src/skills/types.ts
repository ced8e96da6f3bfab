import type { Problem } from '../errors.js';

/** A skill folder: SKILL.md with Agent Skills frontmatter, plus optional scripts/ and references/. */
export interface Skill {
  name: string;
  description: string;
  /** Absolute path of the skill folder on the host. */
  dir: string;
  /**
   * Which layout it was found in: `skills/<name>` (skill-eval) or `environment/skills/<name>` (SkillsBench) of a
   * task, or `eval --skill` (flag).
   */
  layout: 'skill-eval' | 'skillsbench' | 'flag';
  /** Where it came from (recorded with every result). */
  source: SkillSource;
  license?: string | undefined;
  compatibility?: string | undefined;
  allowedTools?: string[] | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Number of files in the folder (recursively). */
  fileCount: number;
  bytes: number;
  /** sha256 over (relative path, mode, content) of every file in the folder, hex (src/util/file-tree.ts). */
  sha256: string;
  warnings: Problem[];
}

/** Where a skill came from: its task's folder, a local folder (`--skill PATH`) or a git commit (`--skill URL`). */
export type SkillSource =
  /** `path`: relative to the task directory (`skills/<name>`). */
  | { kind: 'task'; path: string }
  /** `path`: the skill folder, absolute. */
  | { kind: 'path'; path: string }
  | {
      kind: 'git';
      url: string;
      /** As asked for (`#REF`, `@REF`); absent: the remote's HEAD. */
      ref?: string | undefined;
      /** The `:SUBDIR` asked for. */
      subdir?: string | undefined;
      commit: string;
      /** The skill folder inside the repository (`skills/pdf`; `.` for the root). */
      path: string;
    };

/** The part of a skill that goes into results. */
export interface SkillDigest {
  name: string;
  description: string;
  fileCount: number;
  bytes: number;
  sha256: string;
  source: SkillSource;
}

export function skillDigest(skill: Skill): SkillDigest {
  return {
    name: skill.name,
    description: skill.description,
    fileCount: skill.fileCount,
    bytes: skill.bytes,
    sha256: skill.sha256,
    source: skill.source,
  };
}
