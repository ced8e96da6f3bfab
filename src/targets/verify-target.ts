import type { Agent } from '../agents/types.js';
import { errorMessage, formatProblem, TaskFormatError } from '../errors.js';
import type { ModeName } from './contract.js';
import { type MetricsFile, type SetupOptions, setup, type TargetEnv, TargetStageError } from './env.js';
import type { FailureClass } from './stages.js';

export interface VerifySuiteOptions {
  targets: string[];
  /** `gold`, `empty`, or a model name at `baseUrl` (else OPENAI_BASE_URL). */
  llm: string;
  mode: ModeName;
  requireSamples: boolean;
  repairIters?: number | undefined;
  /** The agent that repairs failing contracts (and drafts missing ones when `derive`). */
  repairAgent?: Agent | undefined;
  repairModel?: string | undefined;
  derive?: boolean | undefined;
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  cacheDir?: string | undefined;
  contractsDir?: string | undefined;
  artifactsDir?: string | undefined;
  offline?: boolean | undefined;
  hfEndpoint?: string | undefined;
  /** Overrides the contracts' sample limit per mode (see SetupOptions.modeLimits). */
  modeLimits?: SetupOptions['modeLimits'];
  /** Also roll out the `empty` canary and reject a contract that scores it above `canary.empty_max` (default on). */
  canaryCheck?: boolean | undefined;
  log?: ((line: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface CanaryReport {
  model: 'empty';
  ok: boolean;
  score?: number | undefined;
  max: number;
  artifacts_dir: string;
  note?: string | undefined;
}

export interface VerifySuiteResult {
  target: string;
  ok: boolean;
  /** `resolve`, `contract`, `bootstrap`, `setup`, `health`, `rollout`, `evaluate`, `canary`, `teardown`; null when ok. */
  failed_stage: string | null;
  failure_code: string | null;
  failure_class: FailureClass | null;
  error: string | null;
  rollout_ok: boolean;
  evaluation_ok: boolean;
  metrics: MetricsFile | null;
  artifacts_dir: string | null;
  canary: CanaryReport | null;
  contract_reviewed: boolean | null;
  repair: { iterations: number; fixed: boolean; stopped_because?: string | undefined; attempts: unknown[] } | null;
}

export interface VerifySuiteSummary {
  schema: 'skill-eval/verify-suite@1';
  ok: boolean;
  llm: string;
  mode: ModeName;
  require_samples: boolean;
  started_at: string;
  duration_ms: number;
  results: VerifySuiteResult[];
}

function emptyResult(target: string): VerifySuiteResult {
  return {
    target,
    ok: false,
    failed_stage: null,
    failure_code: null,
    failure_class: null,
    error: null,
    rollout_ok: false,
    evaluation_ok: false,
    metrics: null,
    artifacts_dir: null,
    canary: null,
    contract_reviewed: null,
    repair: null,
  };
}

/** One target, once: setup → rollout → evaluate → (empty canary) → teardown. Never throws. */
export async function verifyTarget(target: string, options: VerifySuiteOptions): Promise<VerifySuiteResult> {
  const result = emptyResult(target);
  let env: TargetEnv | undefined;
  const fail = (
    stage: string,
    code: string,
    message: string,
    failureClass: FailureClass | null = null,
  ): VerifySuiteResult => {
    result.ok = false;
    result.failed_stage = stage;
    result.failure_code = code;
    result.failure_class = failureClass;
    result.error = message;
    return result;
  };
  try {
    try {
      env = await setup({
        target,
        cacheDir: options.cacheDir,
        contractsDir: options.contractsDir,
        artifactsDir: options.artifactsDir,
        offline: options.offline,
        hfEndpoint: options.hfEndpoint,
        baseUrl: options.baseUrl,
        apiKey: options.apiKey,
        modeLimits: options.modeLimits,
        signal: options.signal,
        log: options.log,
      });
    } catch (error) {
      if (error instanceof TargetStageError) {
        result.artifacts_dir = error.artifactsDir;
        return fail(error.stage, error.code, error.failure.message, error.failure.class);
      }
      if (error instanceof TaskFormatError)
        return fail('contract', 'contract_invalid', error.problems.map(formatProblem).join('\n'));
      const message = errorMessage(error);
      return fail(
        /contract/.test(message) ? 'contract' : 'resolve',
        /no contract/.test(message) ? 'contract_missing' : 'resolve_failed',
        message,
        /authentication/i.test(message) ? 'auth' : null,
      );
    }
    result.artifacts_dir = env.artifactsDir();
    result.contract_reviewed = env.reviewed;
    const rollout = await env.rollout({ llm: options.llm, mode: options.mode, requireSamples: options.requireSamples });
    result.rollout_ok = rollout.ok;
    if (!rollout.ok)
      return fail(
        'rollout',
        rollout.failure?.code ?? 'rollout_failed',
        rollout.failure?.message ?? 'rollout failed',
        rollout.failure?.class ?? null,
      );
    const evaluation = await env.evaluate({ mode: options.mode });
    result.evaluation_ok = evaluation.ok;
    result.metrics = evaluation.metrics;
    if (!evaluation.ok)
      return fail(
        'evaluate',
        evaluation.failure?.code ?? 'evaluate_failed',
        evaluation.failure?.message ?? 'evaluation failed',
        evaluation.failure?.class ?? null,
      );

    // Score integrity: the empty model must score (about) nothing, or the contract does not measure the model.
    const max = env.contract.contract.canary.empty_max;
    if (options.llm === 'empty') {
      result.canary = {
        model: 'empty',
        ok: (evaluation.score ?? 0) <= max,
        score: evaluation.score,
        max,
        artifacts_dir: env.artifactsDir(),
      };
    } else if (options.canaryCheck !== false) {
      const runId = `${env.runId}.canary-empty`;
      const canaryRollout = await env.rollout({
        llm: 'empty',
        mode: options.mode,
        requireSamples: options.requireSamples,
        runId,
      });
      const canaryEvaluation = canaryRollout.ok ? await env.evaluate({ mode: options.mode, runId }) : undefined;
      const score = canaryEvaluation?.ok ? canaryEvaluation.score : undefined;
      result.canary = {
        model: 'empty',
        ok: score === undefined || score <= max,
        score,
        max,
        artifacts_dir: env.artifactsDir(runId),
        note:
          score === undefined
            ? `inconclusive: the empty canary's ${canaryRollout.ok ? 'evaluation' : 'rollout'} gave no score (${(canaryEvaluation?.failure ?? canaryRollout.failure)?.code ?? '?'})`
            : undefined,
      };
    }
    if (result.canary && !result.canary.ok) {
      return fail(
        'canary',
        'canary_empty_scored',
        `the contract scores the empty model ${result.canary.score} (above canary.empty_max ${max}): its score does not come from the model's answers`,
        'integrity',
      );
    }
    result.ok = true;
    return result;
  } catch (error) {
    return fail(result.rollout_ok ? 'evaluate' : 'rollout', 'internal_error', errorMessage(error), 'internal');
  } finally {
    if (env) {
      const teardown = await env.teardown();
      if (!teardown.ok && result.ok)
        fail(
          'teardown',
          teardown.failure?.code ?? 'teardown_failed',
          teardown.failure?.message ?? 'teardown failed',
          teardown.failure?.class ?? null,
        );
    }
  }
}
