import type { Redactor } from '../../util/secrets.js';
import type { Contract, DriverName, ModeName, Stage, StageName } from '../contract.js';
import type { ModelUnderTest } from '../model.js';
import type { Sample } from '../samples.js';
import type { CommandStageContext, StageFailure, StageLog } from '../stages.js';

/** What every driver gets for one stage. */
export interface DriverContext {
  targetDir: string;
  contractDir: string;
  artifactsDir: string;
  logsDir: string;
  samplesPath: string;
  mode: ModeName;
  /** Rows the mode asks for; undefined = all. */
  limit: number | undefined;
  seeds: number[];
  runId: string;
  redactor: Redactor;
  signal?: AbortSignal | undefined;
  log: (line: string) => void;
}

export interface RolloutContext extends DriverContext {
  model: ModelUnderTest;
}

export interface DriverRollout {
  counts: { samples: number; dataset_rows?: number | undefined; errors: number; model_calls: number };
  /** The sample count the mode asks for (limit capped by the dataset, times seeds). */
  expectedSamples?: number | undefined;
  /** Whether a sample's prompt is one this dataset produces. */
  fromDataset?: ((sample: Sample) => boolean) | undefined;
  /** What the model answered, when the runner saw it (gateway): completions must come from these. */
  modelResponses?: readonly string[] | undefined;
  failure?: StageFailure | undefined;
  notes: string[];
}

export interface DriverEvaluation {
  score?: number | undefined;
  metrics: Record<string, number>;
  counts: { samples: number; correct?: number | undefined; [key: string]: number | undefined };
  /** Where the score came from: `driver:qa`, `file:results/score.json#summary.pass_rate`. */
  scoreSource: string;
  /** Successes for the Wilson interval, when the score is a proportion of samples. */
  successes?: number | undefined;
  /** Per task (browser: an episode's `group`, default its page): the same metrics over that task's samples. */
  breakdown?: Record<string, Record<string, number>> | undefined;
  failure?: StageFailure | undefined;
  notes: string[];
}

/** What a driver gets for the rollout or evaluate stage of one run: the `DriverContext` and the runner's limits. */
export interface StageContext extends DriverContext {
  contract: Contract;
  /** The runner variables of docs/targets.md for this stage, with `extra` on top. */
  runnerEnv(extra?: Record<string, string>): Record<string, string>;
  /** Epoch ms past which no command may run (security.total_timeout_sec). */
  deadline: number;
}

export interface RolloutStageContext extends StageContext {
  model: ModelUnderTest;
}

export interface EvaluateStageContext extends StageContext {
  /** How many samples the rollout produced. */
  samples: number;
  /** The samples file's sha256 as the rollout left it: a score must be of those samples. */
  samplesSha256: string | undefined;
}

/** A driver's outcome, with the stage log of the commands it ran when it ran any. */
export type StageRun<T> = T & { log?: StageLog | undefined };

/** The contract stage a driver runs: `stages.<name>` with `driver: N`. */
export type StageOf<N extends DriverName> = Extract<Stage, { driver: N }>;

/**
 * A stage implementation, found by the stage's `driver:` name in the registry (drivers/registry.ts). Every
 * driver rolls out and evaluates; only drivers that run commands also run the other stages.
 */
export interface Driver<N extends DriverName = DriverName> {
  readonly name: N;
  /** The stages the driver can run; undefined: every stage. */
  readonly stages?: readonly StageName[] | undefined;
  /** The metric names the driver produces for this rollout stage; undefined when the target's scorer decides. */
  primaryMetrics?(stage: StageOf<N>): string[] | undefined;
  /** Setup, health or teardown: a stage that neither rolls out nor scores. */
  run?(stage: StageOf<N>, context: CommandStageContext): Promise<StageLog>;
  rollout(stage: StageOf<N>, context: RolloutStageContext): Promise<StageRun<DriverRollout>>;
  evaluate(stage: StageOf<N>, context: EvaluateStageContext): Promise<StageRun<DriverEvaluation>>;
}
