import type { Redactor } from '../../util/secrets.js';
import type { ModeName } from '../contract.js';
import type { ModelUnderTest } from '../model.js';
import type { Sample } from '../samples.js';
import type { StageFailure } from '../stages.js';

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
  failure?: StageFailure | undefined;
  notes: string[];
}
