import type { Contract, ModeName } from '../contract.js';
import type { DriverEvaluation, DriverRollout } from '../drivers/types.js';
import type { LlmSpec, ModelDescription } from '../model.js';
import type { StageFailure, StageLog } from '../stages.js';

/** The options and results of the env API (env.ts): setup, rollout, evaluate, teardown. */

export interface SetupOptions {
  /** A directory, git URL (`URL#REV`) or Hugging Face dataset (`ORG/NAME[@REV]`). */
  target: string;
  /** An explicit contract.yaml; else `<contractsDir>/<slug>/contract.yaml`, else `<target>/.skill-eval/contract.yaml`. */
  contract?: string | undefined;
  contractsDir?: string | undefined;
  /** Default `~/.cache/skill-eval/targets`. */
  cacheDir?: string | undefined;
  /** Default `results/targets` under the current directory. */
  artifactsDir?: string | undefined;
  runId?: string | undefined;
  offline?: boolean | undefined;
  hfEndpoint?: string | undefined;
  /** Endpoint for model names given to rollout as plain strings (else OPENAI_BASE_URL). */
  baseUrl?: string | undefined;
  /** Overrides the contract's sample limit per mode (a sweep's `--smoke-limit`). */
  modeLimits?: Partial<Record<ModeName, number>> | undefined;
  apiKey?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Progress lines (stage commands); silent by default. */
  log?: ((line: string) => void) | undefined;
}

export interface RolloutOptions {
  /** `gold`, `empty`, a model name at the base URL, `{ baseUrl, model, apiKey }` or `{ serve: {…} }`. */
  llm: LlmSpec;
  mode?: ModeName | undefined;
  /** Fail the rollout unless its samples pass every integrity check (docs/targets.md#score-integrity). */
  requireSamples?: boolean | undefined;
  /** Another run under the same setup (the canary check uses `<run_id>.canary-empty`). */
  runId?: string | undefined;
}

export interface RolloutResult {
  ok: boolean;
  runId: string;
  mode: ModeName;
  model: ModelDescription;
  artifactsDir: string;
  rolloutPath: string;
  samplesPath: string;
  counts: DriverRollout['counts'];
  failure?: StageFailure | undefined;
  stage: StageLog;
}

export interface MetricsFile {
  schema: 'skill-eval/target-metrics@1';
  ok: boolean;
  score?: number | undefined;
  primary_metric: string;
  metrics: Record<string, number>;
  counts: DriverEvaluation['counts'];
  scoreSource: string;
  kind: Contract['scoring']['kind'];
  official: boolean;
  range: [number, number];
  ci95?: { low: number; high: number; method: 'wilson' } | undefined;
  breakdown?: DriverEvaluation['breakdown'];
  run_id: string;
  mode: ModeName;
  target: string;
  model: ModelDescription;
  contract: { file: string; digest: string; reviewed: boolean };
  evaluated_at: string;
  failure?: StageFailure | undefined;
  notes: string[];
}

export interface EvaluateResult {
  ok: boolean;
  runId: string;
  mode: ModeName;
  score?: number | undefined;
  metrics: MetricsFile;
  metricsPath: string;
  failure?: StageFailure | undefined;
  stage: StageLog;
}

export interface TeardownResult {
  ok: boolean;
  failure?: StageFailure | undefined;
}

/** Setup's options with the directories resolved. */
export type EnvOptions = SetupOptions & { artifactsRoot: string; cacheDir: string };

/** What the env keeps of a rollout, for its evaluation. */
export interface RolloutRecord {
  result: RolloutResult;
  model: ModelDescription;
  samplesSha256?: string | undefined;
}
