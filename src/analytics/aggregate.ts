import { originalOf, placesSkills } from '../arms/spec.js';
import type { Arm, ReadSummary, TrialRecord } from '../results/read.js';
import { ARMS, EXCLUDED_STATUSES, type TrialStatus } from '../results/schema.js';
import { mulberry32 } from '../util/random.js';
import { type BootstrapSettings, bootstrapMeanInterval, DEFAULT_BOOTSTRAP } from './bootstrap.js';
import {
  armsPValue,
  compareArms,
  deltaPerExtraSpend,
  mean,
  normalizedGain,
  passAtK,
  passHatK,
  taskLevelInterval,
  wilsonInterval,
  withinNoiseFloor,
} from './estimators.js';
import { FunnelCounter } from './funnel.js';
import { adjustPValues, type Correction, DEFAULT_CORRECTION } from './multiplicity.js';
import { type NoiseFloor, noiseFloorOf } from './noise.js';
import {
  ANALYSIS_SCHEMA,
  type AnalysisReport,
  type ArmCost,
  type ArmStats,
  type ArmSummary,
  type ConfigReport,
  type ConfigSummary,
  type CostReport,
  type ExcludedTrial,
  type FlaggedTrials,
  type HurtTask,
  type TaskRow,
  type TrialSample,
} from './report.js';

/**
 * Folds trial records, one at a time, into per task × agent × model × arm counters, then turns the
 * counters into the report. Memory grows with the number of cells, not of trials: the only per-trial
 * data kept is a fixed-size random sample per configuration and arm (for the time/token plots) and
 * the list of errored trials (which the report must name).
 */

export interface AnalysisSettings {
  /** Reward at or above which a trial passes. */
  passThreshold: number;
  includeErrorsAsFailures: boolean;
  /** Count no-skills trials a skill reached (isolation.contaminated) in the rates; left out by default. */
  includeContaminated?: boolean | undefined;
  /** The k of pass@k and pass^k. */
  k: number[];
  /** Trials kept per configuration and arm for the plots. */
  sampleSize?: number | undefined;
  /** Correction of the per-task p-values across a configuration's tasks (default Holm). */
  correction?: Correction | undefined;
  /** The cluster bootstrap of the aggregate Δ (default 2,000 resamples, fixed seed). */
  bootstrap?: BootstrapSettings | undefined;
  /** Read each with-skills trial's session.jsonl for the funnel's last stages (analyze --funnel). */
  funnel?: boolean | undefined;
  /** |Δ| in pp below which a task's Δ is marked as noise (analyze --noise-floor). */
  noiseFloorPp?: number | undefined;
  /** Where the noise floor came from, when measured from A/A runs (analyze --noise-from). */
  noiseFrom?: AnalysisReport['options']['noiseFrom'];
}

/** The two arms a report compares: Δ = treatment − baseline (analyze --baseline / --treatment). */
export interface Comparison {
  baseline: Arm;
  treatment: Arm;
}

export const DEFAULT_COMPARISON: Comparison = { baseline: 'no-skills', treatment: 'with-skills' };

export const DEFAULT_SAMPLE_SIZE = 2000;
const ERROR_STATUSES: ReadonlySet<TrialStatus> = EXCLUDED_STATUSES;

class Cell {
  trials = 0;
  passes = 0;
  rewardSum = 0;
  excluded = 0;
  contaminated = 0;
  durationSum = 0;
  durationCount = 0;
  tokensSum = 0;
  tokensCount = 0;
  activationReported = 0;
  activated = 0;
  costSum = 0;
  costCount = 0;
  judgeCalls = 0;
}

/** Vitter's algorithm R with a seeded generator, so the same inputs always plot the same sample. */
class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  private readonly random: () => number;
  constructor(
    private readonly capacity: number,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }
  add(item: T): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.items[slot] = item;
  }
}

interface ConfigCells {
  agent: string;
  model: string | undefined;
  /** Its position among the configurations: the seed of its samples. */
  index: number;
  tasks: Map<string, Partial<Record<Arm, Cell>>>;
  samples: Map<Arm, Reservoir<TrialSample>>;
  /** Per arm that places skills (src/arms/spec.ts placesSkills). */
  funnels: Map<Arm, FunnelCounter>;
}

export class AnalysisAccumulator {
  private readonly configs = new Map<string, ConfigCells>();
  private readonly errored: ExcludedTrial[] = [];
  private readonly contaminated = new Flagged();
  private readonly tampered = new Flagged();
  private readonly reused: Array<{ arm: Arm; from: string }> = [];
  private readonly arms = new Set<Arm>();
  /** Per job, the model ids its gateways saw serve calls. */
  private readonly served = new Map<string, Set<string>>();
  private trials = 0;
  private lastConfig: ConfigCells | undefined;

  constructor(private readonly settings: AnalysisSettings) {}

  add(record: TrialRecord): void {
    this.trials++;
    this.arms.add(record.arm);
    const cell = this.cell(record);
    const isError = ERROR_STATUSES.has(record.status);
    // Flagged whatever the status: a tampering agent may well have broken the verifier too.
    if (record.contaminated) this.contaminated.add(record);
    if (record.tampered) this.tampered.add(record);
    if (record.reusedFrom !== undefined) this.reused.push({ arm: record.arm, from: record.reusedFrom });
    if (record.modelsServed && record.modelsServed.length > 0) {
      const job = record.jobId ?? '(unknown job)';
      const models = this.served.get(job) ?? new Set<string>();
      for (const model of record.modelsServed) models.add(model);
      this.served.set(job, models);
    }
    if (isError) {
      this.errored.push(listed(record, record.errorMessage));
      if (!this.settings.includeErrorsAsFailures) {
        cell.excluded++;
        return;
      }
    }
    if (record.contaminated && !this.settings.includeContaminated) {
      cell.contaminated++;
      return;
    }
    // Errors counted as failures have no reward worth the name: 0, not passed.
    const reward = isError ? undefined : record.reward;
    const passed =
      reward !== undefined ? reward >= this.settings.passThreshold : !isError && record.status === 'passed';
    cell.trials++;
    if (passed) cell.passes++;
    cell.rewardSum += reward ?? 0;
    if (record.durationMs !== undefined) {
      cell.durationSum += record.durationMs;
      cell.durationCount++;
    }
    if (record.tokens !== undefined) {
      cell.tokensSum += record.tokens;
      cell.tokensCount++;
    }
    if (record.costUsd !== undefined) {
      cell.costSum += record.costUsd;
      cell.costCount++;
    }
    cell.judgeCalls += record.judgeCalls ?? 0;
    if (placesSkills(record.arm)) this.funnel(record).add(record);
    if (placesSkills(record.arm) && record.skillsActivated !== undefined) {
      cell.activationReported++;
      if (record.skillsActivated.length > 0) cell.activated++;
    }
    if (record.durationMs !== undefined || record.tokens !== undefined) {
      this.sample(record).add({
        task: record.task,
        passed,
        durationMs: record.durationMs,
        tokens: record.tokens,
      });
    }
  }

  /** Every arm seen: with-skills, no-skills first (as always), then the others by name. */
  seenArms(): Arm[] {
    return [...this.arms].sort((x, y) => armRank(x) - armRank(y) || compareText(x, y));
  }

  /**
   * The comparisons to report: the baseline (default no-skills) against the treatment when given, else against
   * every other arm seen; with no other arm, the one comparison of earlier versions.
   */
  comparisons(baseline: Arm | undefined, treatment: Arm | undefined): Comparison[] {
    const base = baseline ?? DEFAULT_COMPARISON.baseline;
    if (treatment !== undefined) return [{ baseline: base, treatment }];
    const others = this.seenArms().filter((arm) => arm !== base);
    if (others.length === 0)
      return [{ baseline: base, treatment: base === 'with-skills' ? 'no-skills' : DEFAULT_COMPARISON.treatment }];
    return others.map((arm) => ({ baseline: base, treatment: arm }));
  }

  finish(read: ReadSummary, generatedAt: Date = new Date(), comparison = DEFAULT_COMPARISON): AnalysisReport {
    const configs = [...this.configs.values()]
      .sort((x, y) => compareText(x.agent, y.agent) || compareText(x.model ?? '', y.model ?? ''))
      .map((config) => this.configReport(config, comparison));
    const inPair = (arm: Arm): boolean => arm === comparison.baseline || arm === comparison.treatment;
    const errored = this.errored.filter((trial) => inPair(trial.arm));
    const errorsByStatus: Partial<Record<TrialStatus, number>> = {};
    for (const trial of errored) errorsByStatus[trial.status] = (errorsByStatus[trial.status] ?? 0) + 1;
    const reused = this.reused.filter((trial) => inPair(trial.arm));
    const reusedByArm: Partial<Record<Arm, number>> = {};
    for (const trial of reused) reusedByArm[trial.arm] = (reusedByArm[trial.arm] ?? 0) + 1;
    return {
      schema: ANALYSIS_SCHEMA,
      generatedAt: generatedAt.toISOString(),
      comparison: { ...comparison },
      arms: this.seenArms(),
      options: {
        passThreshold: this.settings.passThreshold,
        includeErrorsAsFailures: this.settings.includeErrorsAsFailures,
        includeContaminated: this.settings.includeContaminated ?? false,
        k: [...this.settings.k],
        correction: this.correction(),
        bootstrap: { ...this.bootstrap() },
        funnel: this.settings.funnel ?? false,
        noiseFloorPp: this.settings.noiseFloorPp,
        noiseFrom: this.settings.noiseFrom,
      },
      inputs: {
        ...readCounts(read),
        trials: this.trials,
      },
      configs,
      errors: {
        countedAsFailures: this.settings.includeErrorsAsFailures,
        count: errored.length,
        byStatus: errorsByStatus,
        trials: errored.sort((x, y) => compareText(x.trial, y.trial) || compareText(x.file, y.file)),
      },
      contamination: { included: this.settings.includeContaminated ?? false, ...this.contaminated.report(inPair) },
      tamper: this.tampered.report(inPair),
      reused: {
        count: reused.length,
        byArm: reusedByArm,
        fromJobs: [...new Set(reused.map((trial) => trial.from))].sort(compareText),
      },
      modelsServed: this.mixedModels(),
      problems: read.problems,
    };
  }

  /** Jobs served by more than one model id, or undefined when none was. */
  private mixedModels(): AnalysisReport['modelsServed'] {
    const mixed = [...this.served]
      .filter(([, models]) => models.size > 1)
      .map(([jobId, models]) => ({ jobId, models: [...models].sort(compareText) }))
      .sort((x, y) => compareText(x.jobId, y.jobId));
    return mixed.length > 0 ? mixed : undefined;
  }

  private config(record: TrialRecord): ConfigCells {
    // Trials come grouped by job, so nearly always from the last configuration: skip building the key.
    const last = this.lastConfig;
    if (last !== undefined && last.agent === record.agent && last.model === record.model) return last;
    const key = `${record.agent}\u0000${record.model ?? ''}`;
    let config = this.configs.get(key);
    if (!config) {
      config = {
        agent: record.agent,
        model: record.model,
        index: this.configs.size,
        tasks: new Map(),
        samples: new Map(),
        funnels: new Map(),
      };
      this.configs.set(key, config);
    }
    this.lastConfig = config;
    return config;
  }

  private sample(record: TrialRecord): Reservoir<TrialSample> {
    const config = this.config(record);
    let reservoir = config.samples.get(record.arm);
    if (!reservoir) {
      // The seeds of earlier versions for the two arms they knew: the same inputs plot the same sample.
      const seed = config.index * 2 + 1;
      const offset = record.arm === 'with-skills' ? 0 : record.arm === 'no-skills' ? 1 : 2 + stringHash(record.arm);
      reservoir = new Reservoir(this.settings.sampleSize ?? DEFAULT_SAMPLE_SIZE, seed + offset);
      config.samples.set(record.arm, reservoir);
    }
    return reservoir;
  }

  private funnel(record: TrialRecord): FunnelCounter {
    const config = this.config(record);
    let funnel = config.funnels.get(record.arm);
    if (!funnel) {
      funnel = new FunnelCounter(this.settings.funnel ?? false);
      config.funnels.set(record.arm, funnel);
    }
    return funnel;
  }

  private cell(record: TrialRecord): Cell {
    const config = this.config(record);
    let arms = config.tasks.get(record.task);
    if (!arms) {
      arms = {};
      config.tasks.set(record.task, arms);
    }
    let cell = arms[record.arm];
    if (!cell) {
      cell = new Cell();
      arms[record.arm] = cell;
    }
    return cell;
  }

  private armStats(cell: Cell | undefined, arm: Arm): ArmStats | undefined {
    if (!cell || cell.trials === 0) return undefined;
    const passAt: Record<string, number> = {};
    const passHat: Record<string, number> = {};
    for (const k of this.settings.k) {
      const at = passAtK(cell.trials, cell.passes, k);
      const hat = passHatK(cell.trials, cell.passes, k);
      if (at !== undefined) passAt[k] = at;
      if (hat !== undefined) passHat[k] = hat;
    }
    return {
      trials: cell.trials,
      passes: cell.passes,
      passRate: cell.passes / cell.trials,
      passRateCi: wilsonInterval(cell.passes, cell.trials)!,
      meanReward: cell.rewardSum / cell.trials,
      excluded: cell.excluded,
      contaminated: cell.contaminated,
      meanDurationMs: cell.durationCount > 0 ? cell.durationSum / cell.durationCount : undefined,
      meanTokens: cell.tokensCount > 0 ? cell.tokensSum / cell.tokensCount : undefined,
      passAtK: passAt,
      passHatK: passHat,
      skillActivation:
        placesSkills(arm) && cell.activationReported > 0
          ? { reported: cell.activationReported, activated: cell.activated }
          : undefined,
    };
  }

  private correction(): Correction {
    return this.settings.correction ?? DEFAULT_CORRECTION;
  }

  private bootstrap(): BootstrapSettings {
    return this.settings.bootstrap ?? DEFAULT_BOOTSTRAP;
  }

  private configReport(config: ConfigCells, comparison: Comparison): ConfigReport {
    const { baseline, treatment } = comparison;
    // Named for the usual pair: `withSkills` is the treatment, `noSkills` the baseline.
    const entries = [...config.tasks.entries()]
      .filter(([, cells]) => cells[baseline] !== undefined || cells[treatment] !== undefined)
      .sort(([x], [y]) => compareText(x, y))
      .map(([task, cells]) => ({
        task,
        withSkills: this.armStats(cells[treatment], treatment),
        noSkills: this.armStats(cells[baseline], baseline),
      }));
    // The family of one configuration: every task with both arms, corrected together.
    const pValues = entries.map((entry) => armsPValue(entry.withSkills, entry.noSkills));
    const tested = pValues.filter((p) => p !== undefined);
    const adjusted = adjustPValues(tested, this.correction());
    let next = 0;
    const tasks: TaskRow[] = entries.map(({ task, withSkills, noSkills }, index) => {
      const adjustedPValue = pValues[index] === undefined ? undefined : adjusted[next++];
      const arms: TaskRow['arms'] = {};
      if (noSkills) arms[baseline] = noSkills;
      if (withSkills) arms[treatment] = withSkills;
      const deltaPp = withSkills && noSkills ? (withSkills.passRate - noSkills.passRate) * 100 : undefined;
      return {
        task,
        arms,
        deltaPp,
        gain: normalizedGain(withSkills?.passRate, noSkills?.passRate),
        significance: compareArms(withSkills, noSkills, adjustedPValue),
        negativeDelta: deltaPp !== undefined && deltaPp < 0,
        withinNoise: withinNoiseFloor(deltaPp, this.settings.noiseFloorPp),
      };
    });
    const label = config.model ? `${config.agent} · ${config.model}` : config.agent;
    const samples: ConfigReport['samples'] = {};
    for (const arm of [baseline, treatment]) {
      const items = config.samples.get(arm)?.items ?? [];
      if (items.length > 0) samples[arm] = items;
    }
    const summary = this.summary(tasks, config, comparison);
    return { agent: config.agent, model: config.model, label, tasks, summary, samples };
  }

  private summary(tasks: TaskRow[], config: ConfigCells, comparison: Comparison): ConfigSummary {
    const { baseline, treatment } = comparison;
    const arms: ConfigSummary['arms'] = {};
    for (const arm of [baseline, treatment]) {
      const summary = armSummary(
        tasks.map((row) => row.arms[arm]).filter((stats) => stats !== undefined),
        this.settings.k,
      );
      if (summary) arms[arm] = summary;
    }
    const paired = tasks.filter((row) => row.arms[treatment] && row.arms[baseline]);
    const passRateWith = mean(paired.map((row) => row.arms[treatment]!.passRate));
    const passRateWithout = mean(paired.map((row) => row.arms[baseline]!.passRate));
    let reported = 0;
    let activated = 0;
    for (const cells of config.tasks.values()) {
      reported += cells[treatment]?.activationReported ?? 0;
      activated += cells[treatment]?.activated ?? 0;
    }
    return {
      comparison: { ...comparison },
      arms,
      paired: {
        tasks: paired.length,
        passRateWith,
        passRateWithout,
        deltaPp:
          passRateWith !== undefined && passRateWithout !== undefined
            ? (passRateWith - passRateWithout) * 100
            : undefined,
        // Δ macro = mean of the per-task Δ, so resampling tasks' Δ is the paired cluster bootstrap.
        deltaPpCi: bootstrapMeanInterval(
          paired.map((row) => row.deltaPp!),
          this.bootstrap(),
        ),
        gain: normalizedGain(passRateWith, passRateWithout),
      },
      negativeDeltaTasks: tasks.filter((row) => row.negativeDelta).map((row) => row.task),
      hurtTasks: tasks.filter((row) => row.negativeDelta).map(hurtTask),
      correction: this.correction(),
      testedTasks: tasks.filter((row) => row.significance.pValue !== undefined).length,
      significantlyBetterTasks: tasks.filter((row) => row.significance.direction === 'skills help').length,
      significantlyWorseTasks: tasks.filter((row) => row.significance.direction === 'skills hurt').length,
      skillActivation: reported > 0 ? { rate: activated / reported, reported, activated } : undefined,
      funnel: (config.funnels.get(treatment) ?? new FunnelCounter(false)).report(),
      cost: costReport(paired, config, comparison),
      withinNoiseTasks:
        this.settings.noiseFloorPp === undefined
          ? undefined
          : paired.filter((row) => row.withinNoise).map((row) => row.task),
      noiseFloorPp: this.settings.noiseFloorPp,
      aa: originalOf(treatment) === baseline && treatment !== baseline ? aaNoise(paired) : undefined,
    };
  }
}

/** An arm against its own replica (`eval --aa`): the |Δ| per task is noise alone; its 95th percentile a floor. */
function aaNoise(paired: readonly TaskRow[]): NoiseFloor | undefined {
  return noiseFloorOf(paired.map((row) => Math.abs(row.deltaPp!)));
}

/** Tokens and cost over the paired tasks (the tasks Δ is measured on), and what each point of Δ cost. */
function costReport(paired: readonly TaskRow[], config: ConfigCells, comparison: Comparison): CostReport {
  const arms: CostReport['arms'] = {};
  for (const arm of [comparison.baseline, comparison.treatment]) {
    const cost: ArmCost = { trials: 0, tokenTrials: 0, costTrials: 0, judgeCalls: 0 };
    let tokens = 0;
    let dollars = 0;
    for (const row of paired) {
      const cell = config.tasks.get(row.task)?.[arm];
      if (!cell) continue;
      cost.trials += cell.trials;
      cost.tokenTrials += cell.tokensCount;
      cost.costTrials += cell.costCount;
      cost.judgeCalls += cell.judgeCalls;
      tokens += cell.tokensSum;
      dollars += cell.costSum;
    }
    if (cost.tokenTrials > 0) cost.meanTokens = tokens / cost.tokenTrials;
    if (cost.costTrials > 0) cost.meanCostUsd = dollars / cost.costTrials;
    if (cost.trials > 0) arms[arm] = cost;
  }
  const deltaPp = paired.length > 0 ? mean(paired.map((row) => row.deltaPp!)) : undefined;
  const withSkills = arms[comparison.treatment];
  const noSkills = arms[comparison.baseline];
  return {
    arms,
    deltaPpPerUsd: deltaPerExtraSpend(deltaPp, withSkills?.meanCostUsd, noSkills?.meanCostUsd),
    deltaPpPer1kTokens: deltaPerExtraSpend(deltaPp, withSkills?.meanTokens, noSkills?.meanTokens, 1000),
  };
}

function hurtTask(row: TaskRow): HurtTask {
  return {
    task: row.task,
    deltaPp: row.deltaPp!,
    pValue: row.significance.pValue,
    adjustedPValue: row.significance.adjustedPValue,
    significant: row.significance.verdict === 'significant',
  };
}

/** A trial as the report lists it. */
function listed(record: TrialRecord, message: string | undefined): ExcludedTrial {
  return {
    trial: record.trialName,
    task: record.task,
    agent: record.agent,
    model: record.model,
    arm: record.arm,
    status: record.status,
    message,
    file: record.file,
  };
}

/** Trials an audit flagged: counted per arm, listed with what the audit found. */
class Flagged {
  private readonly trials: ExcludedTrial[] = [];

  add(record: TrialRecord): void {
    this.trials.push(listed(record, record.auditNote));
  }

  /** Those of the arms `keep` accepts. */
  report(keep: (arm: Arm) => boolean = () => true): FlaggedTrials {
    const trials = this.trials
      .filter((trial) => keep(trial.arm))
      .sort((x, y) => compareText(x.trial, y.trial) || compareText(x.file, y.file));
    const byArm: Partial<Record<Arm, number>> = {};
    for (const trial of trials) byArm[trial.arm] = (byArm[trial.arm] ?? 0) + 1;
    return { count: trials.length, byArm, trials };
  }
}

function armSummary(perTask: ArmStats[], ks: readonly number[]): ArmSummary | undefined {
  const estimate = taskLevelInterval(perTask.map((stats) => stats.passRate));
  if (!estimate) return undefined;
  const passAt: ArmSummary['passAtK'] = {};
  const passHat: ArmSummary['passHatK'] = {};
  for (const k of ks) {
    const at = perTask.map((stats) => stats.passAtK[k]).filter((value) => value !== undefined);
    const hat = perTask.map((stats) => stats.passHatK[k]).filter((value) => value !== undefined);
    if (at.length > 0) passAt[k] = { value: mean(at)!, tasks: at.length };
    if (hat.length > 0) passHat[k] = { value: mean(hat)!, tasks: hat.length };
  }
  return {
    tasks: estimate.tasks,
    trials: perTask.reduce((sum, stats) => sum + stats.trials, 0),
    passRate: estimate.mean,
    passRateCi: estimate.interval,
    passRateCiHalfWidth: estimate.halfWidth,
    meanReward: mean(perTask.map((stats) => stats.meanReward))!,
    passAtK: passAt,
    passHatK: passHat,
  };
}

/** Code-point order, independent of the locale, so outputs are byte-for-byte reproducible. */
export function compareText(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What the reader counted, without its problem list (reported separately). */
function readCounts({ problems: _problems, ...counts }: ReadSummary): Omit<ReadSummary, 'problems'> {
  return counts;
}

/** with-skills, no-skills, then any other arm. */
function armRank(arm: Arm): number {
  const index = (ARMS as readonly string[]).indexOf(arm);
  return index < 0 ? ARMS.length : index;
}

/** A small stable number from an arm's name (its sample's seed). */
function stringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) >>> 0;
  return hash % 1_000_003;
}
