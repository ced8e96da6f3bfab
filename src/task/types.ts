import type { Problem } from '../errors.js';
import type { Skill } from '../skills/types.js';

/** task.toml after validation and defaults (Harbor's defaults where a key is absent). */
export interface TaskConfig {
  dialect: 'legacy' | 'harbor';
  /** `version` (legacy) or `schema_version` (harbor) as written. */
  schemaVersion: string;
  /** Harbor `[task]` table (name, description, authors, keywords), when present. */
  task?:
    | {
        name?: string | undefined;
        description?: string | undefined;
        authors?: unknown[] | undefined;
        keywords?: string[] | undefined;
      }
    | undefined;
  /** Legacy free-form `[metadata]`. */
  metadata: Record<string, unknown>;
  agent: { timeoutSec: number; user?: string | undefined };
  verifier: { timeoutSec: number; env: Record<string, string>; user?: string | undefined };
  solution: { env: Record<string, string> };
  environment: {
    buildTimeoutSec: number;
    dockerImage?: string | undefined;
    cpus: number;
    memoryMb: number;
    storageMb: number;
    gpus: number;
    allowInternet: boolean;
    networkMode?: string | undefined;
    env: Record<string, string>;
    /** Extra directory (absolute in the environment) that receives skills in the with-skills arm. */
    skillsDir?: string | undefined;
  };
  /** Keys nobody here knows, kept verbatim (and warned about). */
  unknown: Record<string, unknown>;
}

export interface Task {
  /** Folder name of the task (what users type). */
  name: string;
  /** Absolute path of the task directory. */
  dir: string;
  instruction: string;
  config: TaskConfig;
  paths: {
    taskToml: string;
    instruction: string;
    testsDir: string;
    testScript: string;
    /** `solution/` when it holds solve.sh. */
    solutionDir?: string | undefined;
    /** `environment/` when it exists. */
    environmentDir?: string | undefined;
    dockerfile?: string | undefined;
  };
  /** Skills co-located with the task (both layouts), in name order. */
  skills: Skill[];
  /** sha256 over every file of the task directory (relative path, mode, content), hex. */
  checksum: string;
  /** Warnings found while loading (unknown keys, skills without frontmatter, …). */
  warnings: Problem[];
}

/** What loading a task directory produced: a task, or every problem found. */
export type TaskLoadResult = { ok: true; task: Task } | { ok: false; dir: string; problems: Problem[] };
