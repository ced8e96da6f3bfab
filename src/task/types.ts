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
  /**
   * `[[graders]]` as written (docs/graders.md); undefined when the task has none: then the verifier alone
   * (tests/test.sh) grades it, with weight 1, as before graders existed.
   */
  graders?: GraderSpec[] | undefined;
  /** Keys nobody here knows, kept verbatim (and warned about). */
  unknown: Record<string, unknown>;
}

/** The ways of scoring a trial (src/graders/registry.ts has one implementation each). */
export const GRADER_TYPES = ['verifier', 'deterministic', 'llm_rubric'] as const;
export type GraderType = (typeof GRADER_TYPES)[number];

/** The judge providers an llm_rubric grader may name (src/models/). */
export const JUDGE_PROVIDERS = ['anthropic', 'gemini', 'openai'] as const;
export type JudgeProviderName = (typeof JUDGE_PROVIDERS)[number];

/** One `[[graders]]` entry after validation and defaults. */
export interface GraderSpec {
  type: GraderType;
  /** Unique within the task; defaults to the type. */
  name: string;
  /** > 0; default 1. */
  weight: number;
  /** deterministic: the script, relative to tests/. */
  run?: string | undefined;
  /** deterministic: its own timeout; default the verifier's. */
  timeoutSec?: number | undefined;
  /** llm_rubric: the rubric file, relative to tests/. */
  rubric?: string | undefined;
  /** llm_rubric: the judge (else the job's --grader-model, else the provider's default). */
  model?: string | undefined;
  provider?: JudgeProviderName | undefined;
  baseUrl?: string | undefined;
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
