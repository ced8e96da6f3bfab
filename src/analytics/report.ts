import type { Arm, ReadProblem, ReadSummary } from '../results/read.js';
import type { TrialStatus } from '../results/schema.js';
import type { BootstrapSettings } from './bootstrap.js';
import type { Interval, Significance } from './estimators.js';
import type { Correction } from './multiplicity.js';
import type { NoiseFloor } from './noise.js';

/**
 * The analysis report: what `--json` prints (schema `skill-eval/analysis@1`) and what every other
 * output renders. Rates are fractions in [0, 1]; deltas are percentage points. A field that is not
 * defined (no data, a 100 % baseline, k > n) is absent — never 0.
 */

export const ANALYSIS_SCHEMA = 'skill-eval/analysis@1';

export interface ArmStats {
  /** Trials counted in the rate (errors excluded unless --include-errors-as-failures). */
  trials: number;
  passes: number;
  passRate: number;
  /** Wilson 95 % interval of the pass rate. */
  passRateCi: Interval;
  /** Mean reward; a counted trial without a reward (agent failed, or an error counted as failure) adds 0. */
  meanReward: number;
  /** Trials left out of the rate: infra and verifier errors (0 with --include-errors-as-failures). */
  excluded: number;
  /** No-skills trials left out of the rate because a skill reached them (0 with --include-contaminated). */
  contaminated: number;
  meanDurationMs?: number | undefined;
  meanTokens?: number | undefined;
  /** pass@k and pass^k by k, for every requested k ≤ trials. */
  passAtK: Record<string, number>;
  passHatK: Record<string, number>;
  /** With-skills trials that reported which skills they used, and how many used at least one. */
  skillActivation?: { reported: number; activated: number } | undefined;
}

export interface TaskRow {
  task: string;
  arms: Partial<Record<Arm, ArmStats>>;
  /** p_with − p_without in percentage points; absent when an arm has no data. */
  deltaPp?: number | undefined;
  /** Normalized gain; absent when an arm has no data or the baseline is 100 %. */
  gain?: number | undefined;
  significance: Significance;
  /** Skills made this task worse (Δ < 0), significant or not. */
  negativeDelta: boolean;
  /** |Δ| is below `options.noiseFloorPp` (analyze --noise-floor); absent without a noise floor or a Δ. */
  withinNoise?: boolean | undefined;
}

export interface ArmSummary {
  /** Tasks with data in this arm. */
  tasks: number;
  trials: number;
  /** Macro mean over tasks of the per-task pass rates. */
  passRate: number;
  /** Task-level 95 % interval: ± 1.96 · sd(per-task pass rates) / √tasks (absent below two tasks). */
  passRateCi?: Interval | undefined;
  passRateCiHalfWidth?: number | undefined;
  /** Macro mean over tasks of the per-task mean rewards. */
  meanReward: number;
  /** Macro means over the tasks with at least k counted trials; `tasks` says how many that was. */
  passAtK: Record<string, { value: number; tasks: number }>;
  passHatK: Record<string, { value: number; tasks: number }>;
}

export interface ConfigSummary {
  /** The arms compared (`passRateWith` is the treatment's, `passRateWithout` the baseline's). */
  comparison: { baseline: Arm; treatment: Arm };
  arms: Partial<Record<Arm, ArmSummary>>;
  /** The treatment/baseline comparison over the tasks that have both arms. */
  paired: {
    tasks: number;
    passRateWith?: number | undefined;
    passRateWithout?: number | undefined;
    deltaPp?: number | undefined;
    /**
     * Percentile interval of Δ (pp) from the cluster bootstrap over tasks (bootstrap.ts, settings in
     * `options.bootstrap`); absent below two paired tasks.
     */
    deltaPpCi?: Interval | undefined;
    /** g on the aggregate (macro) pass rates, the SkillsBench definition. */
    gain?: number | undefined;
  };
  /** Tasks where skills lowered the pass rate. */
  negativeDeltaTasks: string[];
  /** The same tasks, each with its Δ and its raw and corrected p (absent when untested). */
  hurtTasks: HurtTask[];
  /** The correction applied to the per-task p-values (`options.correction`). */
  correction: Correction;
  /** Tasks with a p-value (both arms): the family the correction runs over. */
  testedTasks: number;
  /** Tasks whose corrected p is below 0.05, by direction. */
  significantlyBetterTasks: number;
  significantlyWorseTasks: number;
  /** Share of with-skills trials that activated a skill, among those that reported it. */
  skillActivation?: { rate: number; reported: number; activated: number } | undefined;
  /** The with-skills arm's activation funnel (counted trials); absent when no trial was given skills. */
  funnel?: FunnelReport | undefined;
  /** Tokens and cost per arm, and Δ per extra dollar / 1k tokens, over the paired tasks. */
  cost: CostReport;
  /** Paired tasks whose |Δ| is below the noise floor (analyze --noise-floor); absent without one. */
  withinNoiseTasks?: string[] | undefined;
  /** The noise floor they were held to (`options.noiseFloorPp`). */
  noiseFloorPp?: number | undefined;
  /**
   * An arm against its A/A replica (`eval --aa`): the distribution of |Δ| over the paired tasks, from noise
   * alone — its 95th percentile is what `analyze --noise-from` takes as the floor.
   */
  aa?: NoiseFloor | undefined;
}

export interface FunnelStage {
  /** supplied → present (where the agent looks) → listed (by the agent) → opened (SKILL.md) → resources_used. */
  stage: 'supplied' | 'present' | 'listed' | 'opened' | 'resources_used';
  /** Trials that reached this stage; absent when not measured or not reported (see `note`). */
  count?: number | undefined;
  /** Share of the trials given skills (`supplied`); absent with `count`. */
  rate?: number | undefined;
  /** Trials that could tell (audited, reported, with a session log). */
  known: number;
  note?: string | undefined;
}

export interface FunnelReport {
  /** Counted with-skills trials. */
  trials: number;
  stages: FunnelStage[];
  /** With --funnel: session logs read; absent otherwise. */
  sessionLogsRead?: number | undefined;
  /** From the agent phase's start to the first skill opened (session.jsonl, --funnel only). */
  timeToFirstOpenMs?: { trials: number; medianMs: number; meanMs: number } | undefined;
}

export interface ArmCost {
  trials: number;
  /** Mean input + output tokens per trial, over the `tokenTrials` that reported usage. */
  meanTokens?: number | undefined;
  tokenTrials: number;
  /** Mean agent cost (USD) per trial, over the `costTrials` whose agent reported one. */
  meanCostUsd?: number | undefined;
  costTrials: number;
  /** Grader calls to a judge model (their cost is not recorded in result.json). */
  judgeCalls: number;
}

export interface CostReport {
  arms: Partial<Record<Arm, ArmCost>>;
  /** Δ (pp) per extra dollar per trial; absent unless both arms report cost and skills cost more. */
  deltaPpPerUsd?: number | undefined;
  /** Δ (pp) per 1,000 extra tokens per trial; absent unless skills use more tokens. */
  deltaPpPer1kTokens?: number | undefined;
}

export interface HurtTask {
  task: string;
  deltaPp: number;
  pValue?: number | undefined;
  adjustedPValue?: number | undefined;
  significant: boolean;
}

export interface TrialSample {
  task: string;
  passed: boolean;
  durationMs?: number | undefined;
  tokens?: number | undefined;
}

export interface ConfigReport {
  agent: string;
  model?: string | undefined;
  /** `agent · model`, as every output names the configuration. */
  label: string;
  tasks: TaskRow[];
  summary: ConfigSummary;
  /** A uniform sample (at most SAMPLE_SIZE per arm) of counted trials, for the time and token plots. */
  samples: Partial<Record<Arm, TrialSample[]>>;
}

export interface ExcludedTrial {
  trial: string;
  task: string;
  agent: string;
  model?: string | undefined;
  arm: Arm;
  status: TrialStatus;
  message?: string | undefined;
  file: string;
}

/** Trials an audit flagged (docs/results.md): how many, per arm, and each with what was found. */
export interface FlaggedTrials {
  count: number;
  byArm: Partial<Record<Arm, number>>;
  trials: ExcludedTrial[];
}

export interface AnalysisReport {
  schema: typeof ANALYSIS_SCHEMA;
  generatedAt: string;
  /** The two arms compared: Δ = treatment − baseline (default with-skills − no-skills). */
  comparison: { baseline: Arm; treatment: Arm };
  /** Every arm among the trials read; the lists below (errors, contamination, …) hold the compared two only. */
  arms: Arm[];
  options: {
    passThreshold: number;
    includeErrorsAsFailures: boolean;
    includeContaminated: boolean;
    k: number[];
    /** Multiple-comparison correction of the per-task p-values, within each configuration. */
    correction: Correction;
    /** The cluster bootstrap behind `summary.paired.deltaPpCi`. */
    bootstrap: BootstrapSettings;
    /** analyze --funnel: session logs were read for the funnel's last stages. */
    funnel: boolean;
    /** analyze --noise-floor: |Δ| (pp) below which a task's Δ is noise. */
    noiseFloorPp?: number | undefined;
    /** analyze --noise-from: the A/A results the floor came from (src/analytics/noise.ts). */
    noiseFrom?: { dirs: string[]; pairs: number; maxPp: number } | undefined;
  };
  /** What the reader counted (ReadSummary without its problems) and the trials analysed. */
  inputs: Omit<ReadSummary, 'problems'> & { trials: number };
  configs: ConfigReport[];
  /** Infra and verifier errors: left out of the rates (or counted as failures, when asked), always listed. */
  errors: {
    countedAsFailures: boolean;
    count: number;
    byStatus: Partial<Record<TrialStatus, number>>;
    trials: ExcludedTrial[];
  };
  /**
   * No-skills trials a skill reached (isolation audit): left out of the rates unless `included`
   * (--include-contaminated), always counted and listed. An errored one is also among `errors`.
   */
  contamination: FlaggedTrials & { included: boolean };
  /** Trials whose agent touched verifier territory (tamper audit): shown, never excluded (the reward is the verifier's). */
  tamper: FlaggedTrials;
  /** Trials copied from an earlier job (`eval --baseline-from`), per arm, and the jobs they ran in. */
  reused: { count: number; byArm: Partial<Record<Arm, number>>; fromJobs: string[] };
  /**
   * Jobs whose model calls were served by more than one model id (usage.modelsServed, counted at the gateway): a
   * pinned model was not what answered every call. Absent when every job was served by one id (or had no gateway).
   */
  modelsServed?: Array<{ jobId: string; models: string[] }> | undefined;
  /** Files that could not be read; each was skipped. */
  problems: ReadProblem[];
}
