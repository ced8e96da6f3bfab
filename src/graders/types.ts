import type { AgentRunResult } from '../agents/types.js';
import type { Workspace } from '../environments/types.js';
import type { GraderSpec, GraderType, Task } from '../task/types.js';
import type { Redactor } from '../util/secrets.js';
import type { SessionLog } from '../util/session-log.js';
import type { WorkspaceDiff } from './workspace-diff.js';

/** One grader's line in result.json (`graders`): its score, or the error that made the trial a verifier error. */
export interface GraderResult {
  name: string;
  type: GraderType;
  weight: number;
  /** 0..1; absent when the grader failed or did not run. */
  score?: number | undefined;
  details?: string | undefined;
  checks?: Array<{ name: string; passed: boolean; message?: string | undefined }> | undefined;
  error?: string | undefined;
  duration_ms?: number | undefined;
  /** llm_rubric: the judge, as `provider/model`. */
  model?: string | undefined;
  /** llm_rubric: e.g. the judge is of the agent's own model family. */
  warning?: string | undefined;
}

/** What a grader's own code returns; name, type and weight are added by the runner. */
export type GraderOutcome = Omit<GraderResult, 'name' | 'type' | 'weight' | 'duration_ms'>;

/** Where the judge's model, keys and base URLs come from (the host, never the sandbox). */
export interface JudgeSettings {
  /** `--grader-model`: the judge of every llm_rubric grader that names none. */
  model?: string | undefined;
  /** The host variables holding judge keys and base URLs. */
  env: NodeJS.ProcessEnv;
}

/** Everything a grader may look at, once the verifier has run (tests still in the environment). */
export interface GradingContext {
  task: Task;
  workspace: Workspace;
  trialDir: string;
  redactor: Redactor;
  log: SessionLog;
  signal?: AbortSignal | undefined;
  /** The verifier's timeout (ms): a deterministic grader's default. */
  verifierTimeoutMs: number;
  agent: { name: string; model?: string | undefined; result?: AgentRunResult | undefined };
  /** What the agent changed in the workdir; undefined when no grader asked for it. */
  diff?: WorkspaceDiff | undefined;
  judge: JudgeSettings;
  /** The verifier's reward (tests/test.sh), read by the lifecycle; undefined when no verifier grader ran. */
  verifier?: { reward?: number | undefined; error?: string | undefined; durationMs: number } | undefined;
  /** The graders that ran before this one (the verifier, deterministic ones). */
  earlier: readonly GraderResult[];
}

/** One way of scoring a trial. */
export interface Grader {
  readonly type: GraderType;
  /** Graders run stage by stage (lower first), so a judge sees the scripts' results. */
  readonly stage: number;
  grade(spec: GraderSpec, context: GradingContext): Promise<GraderOutcome>;
}
