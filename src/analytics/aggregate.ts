import type { Arm, ReadSummary, TrialRecord } from '../results/read.js';
import { EXCLUDED_STATUSES, type TrialStatus } from '../results/schema.js';
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

export const DEFAULT_SAMPLE_SIZE = 2000;
const ERROR_STATUSES = EXCLUDED_STATUSES;
const ARM_ORDER: readonly Arm[] = ['no-skills', 'with-skills'];

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
  tasks: Map<string, Partial<Record<Arm, Cell>>>;
  samples: Record<Arm, Reservoir<TrialSample>>;
  funnel: FunnelCounter;
}

export class AnalysisAccumulator {
  private readonly configs = new Map<string, ConfigCells>();
  private readonly errored: ExcludedTrial[] = [];
  private readonly errorsByStatus: Partial<Record<TrialStatus, number>> = {};
  private readonly contaminated = new Flagged();
  private readonly tampered = new Flagged();
  private readonly reused: AnalysisReport['reused'] = { count: 0, byArm: {}, fromJobs: [] };
  /** Per job, the model ids its gateways saw serve calls. */
  private readonly served = new Map<string, Set<string>>();
  private trials = 0;
  private lastConfig: ConfigCells | undefined;

  constructor(private readonly settings: AnalysisSettings) {}

  add(record: TrialRecord): void {
    this.trials++;
    const cell = this.cell(record);
    const isError = ERROR_STATUSES.has(record.status);
    // Flagged whatever the status: a tampering agent may well have broken the verifier too.
    if (record.contaminated) this.contaminated.add(record);
    if (record.tampered) this.tampered.add(record);
    if (record.modelsServed && record.modelsServed.length > 0) {
      const job = record.jobId ?? '(unknown job)';
      const models = this.served.get(job) ?? new Set<string>();
      for (const model of record.modelsServed) models.add(model);
      this.served.set(job, models);
    }
    if (record.reusedFrom !== undefined) {
      this.reused.count++;
      this.reused.byArm[record.arm] = (this.reused.byArm[record.arm] ?? 0) + 1;
      if (!this.reused.fromJobs.includes(record.reusedFrom)) this.reused.fromJobs.push(record.reusedFrom);
    }
    if (isError) {
      this.errorsByStatus[record.status] = (this.errorsByStatus[record.status] ?? 0) + 1;
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
    if (record.arm === 'with-skills') this.config(record).funnel.add(record);
    if (record.arm === 'with-skills' && record.skillsActivated !== undefined) {
      cell.activationReported++;
      if (record.skillsActivated.length > 0) cell.activated++;
    }
    if (record.durationMs !== undefined || record.tokens !== undefined) {
      this.config(record).samples[record.arm].add({
        task: record.task,
        passed,
        durationMs: record.durationMs,
        tokens: record.tokens,
      });
    }
  }

  finish(read: ReadSummary, generatedAt: Date = new Date()): AnalysisReport {
    const configs = [...this.configs.values()]
      .sort((x, y) => compareText(x.agent, y.agent) || compareText(x.model ?? '', y.model ?? ''))
      .map((config) => this.configReport(config));
    return {
      schema: ANALYSIS_SCHEMA,
      generatedAt: generatedAt.toISOString(),
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
        count: this.errored.length,
        byStatus: { ...this.errorsByStatus },
        trials: [...this.errored].sort((x, y) => compareText(x.trial, y.trial) || compareText(x.file, y.file)),
      },
      contamination: { included: this.settings.includeContaminated ?? false, ...this.contaminated.report() },
      tamper: this.tampered.report(),
      reused: {
        ...this.reused,
        byArm: { ...this.reused.byArm },
        fromJobs: [...this.reused.fromJobs].sort(compareText),
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
      const seed = this.configs.size * 2 + 1;
      const size = this.settings.sampleSize ?? DEFAULT_SAMPLE_SIZE;
      config = {
        agent: record.agent,
        model: record.model,
        tasks: new Map(),
        samples: { 'with-skills': new Reservoir(size, seed), 'no-skills': new Reservoir(size, seed + 1) },
        funnel: new FunnelCounter(this.settings.funnel ?? false),
      };
      this.configs.set(key, config);
    }
    this.lastConfig = config;
    return config;
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
        arm === 'with-skills' && cell.activationReported > 0
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

  private configReport(config: ConfigCells): ConfigReport {
    const entries = [...config.tasks.entries()]
      .sort(([x], [y]) => compareText(x, y))
      .map(([task, cells]) => ({
        task,
        withSkills: this.armStats(cells['with-skills'], 'with-skills'),
        noSkills: this.armStats(cells['no-skills'], 'no-skills'),
      }));
    // The family of one configuration: every task with both arms, corrected together.
    const pValues = entries.map((entry) => armsPValue(entry.withSkills, entry.noSkills));
    const tested = pValues.filter((p) => p !== undefined);
    const adjusted = adjustPValues(tested, this.correction());
    let next = 0;
    const tasks: TaskRow[] = entries.map(({ task, withSkills, noSkills }, index) => {
      const adjustedPValue = pValues[index] === undefined ? undefined : adjusted[next++];
      const arms: TaskRow['arms'] = {};
      if (noSkills) arms['no-skills'] = noSkills;
      if (withSkills) arms['with-skills'] = withSkills;
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
    for (const arm of ARM_ORDER) {
      if (config.samples[arm].items.length > 0) samples[arm] = config.samples[arm].items;
    }
    return { agent: config.agent, model: config.model, label, tasks, summary: this.summary(tasks, config), samples };
  }

  private summary(tasks: TaskRow[], config: ConfigCells): ConfigSummary {
    const arms: ConfigSummary['arms'] = {};
    for (const arm of ARM_ORDER) {
      const summary = armSummary(
        tasks.map((row) => row.arms[arm]).filter((stats) => stats !== undefined),
        this.settings.k,
      );
      if (summary) arms[arm] = summary;
    }
    const paired = tasks.filter((row) => row.arms['with-skills'] && row.arms['no-skills']);
    const passRateWith = mean(paired.map((row) => row.arms['with-skills']!.passRate));
    const passRateWithout = mean(paired.map((row) => row.arms['no-skills']!.passRate));
    let reported = 0;
    let activated = 0;
    for (const cells of config.tasks.values()) {
      reported += cells['with-skills']?.activationReported ?? 0;
      activated += cells['with-skills']?.activated ?? 0;
    }
    return {
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
      funnel: config.funnel.report(),
      cost: costReport(paired, config),
      withinNoiseTasks:
        this.settings.noiseFloorPp === undefined
          ? undefined
          : paired.filter((row) => row.withinNoise).map((row) => row.task),
      noiseFloorPp: this.settings.noiseFloorPp,
    };
  }
}

/** Tokens and cost over the paired tasks (the tasks Δ is measured on), and what each point of Δ cost. */
function costReport(paired: readonly TaskRow[], config: ConfigCells): CostReport {
  const arms: CostReport['arms'] = {};
  for (const arm of ARM_ORDER) {
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
  const withSkills = arms['with-skills'];
  const noSkills = arms['no-skills'];
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
  private readonly byArm: Partial<Record<Arm, number>> = {};

  add(record: TrialRecord): void {
    this.byArm[record.arm] = (this.byArm[record.arm] ?? 0) + 1;
    this.trials.push(listed(record, record.auditNote));
  }

  report(): FlaggedTrials {
    const trials = [...this.trials].sort((x, y) => compareText(x.trial, y.trial) || compareText(x.file, y.file));
    return { count: trials.length, byArm: { ...this.byArm }, trials };
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
