/**
 * The package's programmatic API. The env API makes a benchmark target runnable from TypeScript:
 *
 *   const env = await setup({ target });
 *   const r = await env.rollout({ llm, mode, requireSamples });
 *   const m = await env.evaluate({ mode });
 *   await env.teardown();
 *
 * See docs/targets.md.
 */

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
