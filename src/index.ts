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
export { setup, TargetEnv, TargetStageError, hintsUsed } from './targets/env.js';
export type { SetupOptions, RolloutOptions, RolloutResult, EvaluateResult, TeardownResult, MetricsFile, HintsUsed } from './targets/env.js';
export type { LlmSpec, ModelDescription, CanaryName } from './targets/model.js';
export type { StageFailure, StageLog, FailureClass } from './targets/stages.js';
export type { Contract, ModeName, StageName, DriverName } from './targets/contract.js';
export { loadContract, parseContract } from './targets/contract.js';
export { resolveTarget, type ResolvedTarget, type ResolveOptions } from './targets/resolve/index.js';
export { mineHints, type Hint, type HintReport, type HintClass } from './targets/hints.js';
export { SAMPLE_FAILURE_CODES, type SampleFailureCode } from './targets/samples.js';
export { verifySuite, type VerifySuiteOptions, type VerifySuiteSummary, type VerifySuiteResult } from './targets/suite.js';
