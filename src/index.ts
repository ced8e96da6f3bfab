/**
 * The package's programmatic API (`import … from 'skill-eval'`): curated, each name documented.
 *
 * The evaluation engine (docs/api.md): load tasks, run an eval job, read its results, analyze them.
 *
 *   const outcome = await runEvaluation({ tasks: ['superlint_demo'], agent: 'oracle', provider: 'local' });
 *   const report = await analyzeResults([outcome.jobDir], { passThreshold: 1, includeErrorsAsFailures: false, k: [1] });
 *
 * The env API makes a benchmark target runnable from TypeScript (docs/targets.md):
 *
 *   const env = await setup({ target });
 *   const r = await env.rollout({ llm, mode, requireSamples });
 *   const m = await env.evaluate({ mode });
 *   await env.teardown();
 *
 * Errors are one hierarchy (SkillEvalError and its subclasses), each with the CLI's exit code (docs/exit-codes.md).
 */

// Errors and exit codes (docs/exit-codes.md).
export {
  AgentError,
  type ErrorKind,
  EXIT_CODES,
  formatProblem,
  InfraError,
  InterruptedError,
  type Problem,
  SkillEvalError,
  TaskFormatError,
  UsageError,
} from './errors.js';

// Tasks: load and validate (docs/task-format.md).
export { type LoadTasksOptions, loadTasks } from './api/load-tasks.js';
export type { Skill } from './skills/types.js';
export { type LoadTaskOptions, loadTask } from './task/load.js';
export type { GraderSpec, Task, TaskConfig, TaskLoadResult } from './task/types.js';
// Graders (docs/graders.md).
export { graders } from './graders/registry.js';
export type { Grader, GraderResult } from './graders/types.js';
export { combineScores } from './graders/weighting.js';

// Running an eval job (docs/api.md).
export { type EvaluationOutcome, type RunEvaluationOptions, runEvaluation } from './api/run-evaluation.js';
export type { EvalJobOptions } from './jobs/eval-options.js';
export type { BrokenTask, EvalNotice } from './jobs/eval-tasks.js';
export { type EvalExit, evalExit } from './jobs/exit-code.js';
export { type EvalPlan, type PlanEvalContext, planEval } from './jobs/plan-eval.js';
export { type EvalJobOutcome, type RunEvalContext, runEvalJob } from './jobs/run-eval.js';
export type { JobEvent } from './jobs/run-job.js';
export type { CellSummary, JobSummary } from './jobs/summary.js';

// Results (docs/results.md).
export {
  type Arm,
  type ReadOptions,
  type ReadProblem,
  type ReadSummary,
  readResults,
  type TrialRecord,
} from './results/read.js';
export { ARMS, TRIAL_STATUSES, type TrialResult, type TrialStatus, trialResultSchema } from './results/schema.js';
export { type RegradeOptions, type RegradeOutcome, regradeJob } from './regrade/regrade.js';
export type { RegradedTrial, RegradeReport } from './regrade/report.js';

// Analysis (docs/analyze.md).
export type { AnalysisSettings } from './analytics/aggregate.js';
export { analyzeResults } from './analytics/analyze.js';
export type { Interval, Significance, SignificanceVerdict } from './analytics/estimators.js';
export { evaluateGates, type GateOutcome, type Gates } from './analytics/gates.js';
export { renderCsv } from './analytics/render/csv.js';
export { renderHtml } from './analytics/render/html.js';
export { renderMarkdown } from './analytics/render/markdown.js';
export { renderTerminal, type TerminalOptions } from './analytics/render/terminal.js';
export type {
  AnalysisReport,
  ArmStats,
  ArmSummary,
  ConfigReport,
  ConfigSummary,
  ExcludedTrial,
  TaskRow,
  TrialSample,
} from './analytics/report.js';

// Benchmark targets: the env API (docs/targets.md).
export type { Contract, DriverName, ModeName, StageName } from './targets/contract.js';
export { loadContract, parseContract } from './targets/contract.js';
export type {
  EvaluateResult,
  HintsUsed,
  MetricsFile,
  RolloutOptions,
  RolloutResult,
  SetupOptions,
  TeardownResult,
} from './targets/env.js';
export { hintsUsed, setup, TargetEnv, TargetStageError } from './targets/env.js';
export { type Hint, type HintClass, type HintReport, mineHints } from './targets/hints.js';
export type { CanaryName, LlmSpec, ModelDescription } from './targets/model.js';
export { type ResolvedTarget, type ResolveOptions, resolveTarget } from './targets/resolve/index.js';
export { SAMPLE_FAILURE_CODES, type SampleFailureCode } from './targets/samples.js';
export type { FailureClass, StageFailure, StageLog } from './targets/stages.js';
export {
  type VerifySuiteOptions,
  type VerifySuiteResult,
  type VerifySuiteSummary,
  verifySuite,
} from './targets/suite.js';
