import type { Arm } from '../agents/types.js';
import {
  type ArmOutcomes,
  type SequentialRule,
  type StopReason,
  sequentialDecision,
  sequentialState,
} from '../analytics/sequential.js';
import { UsageError } from '../errors.js';
import { EXCLUDED_STATUSES, type TrialResult } from '../results/schema.js';

/** Trials per arm each round of an `eval --trials auto` task adds before its stopping rule looks again. */
export const SEQUENTIAL_ROUND = 2;
export const SEQUENTIAL_DEFAULTS = { maxTrials: 20, alpha: 0.05 } as const;
/** What job.json and summary.json name the test (docs/analyze.md). */
export const SEQUENTIAL_METHOD = 'kt-discordant-pairs-calibrated';

/** `--trials auto`'s settings: the stopping rule of every task × agent. */
export type SequentialOptions = SequentialRule;

/** Why and when one task × agent stopped (summary.json `sequential.tasks`). */
export interface SequentialStop {
  task: string;
  agent: string;
  model?: string | undefined;
  /** Trials per arm run. */
  trials: number;
  reason: StopReason;
  e_value: number;
  direction?: Arm | undefined;
}

export interface SequentialSummary {
  method: string;
  alpha: number;
  max_trials: number;
  ci_width?: number | undefined;
  round: number;
  /** Every task × agent has stopped (a cancelled job has not). */
  complete: boolean;
  tasks: SequentialStop[];
}

export interface SequentialFlags {
  trials: number | 'auto';
  maxTrials?: number | undefined;
  alpha?: number | undefined;
  ciWidth?: number | undefined;
}

/** `--trials auto` with --max-trials, --alpha, --ci-width → the trial count (the maximum) and the rule. */
export function sequentialFromFlags(flags: SequentialFlags): { trials: number; sequential?: SequentialOptions } {
  if (flags.trials !== 'auto') {
    const stray = [
      ['--max-trials', flags.maxTrials],
      ['--alpha', flags.alpha],
      ['--ci-width', flags.ciWidth],
    ].find(([, value]) => value !== undefined);
    if (stray)
      throw new UsageError(`${stray[0]} is only for --trials auto, but --trials is ${flags.trials}`, {
        hint: `add --trials auto (trials stop when the answer is known), or drop ${stray[0]}`,
      });
    return { trials: flags.trials };
  }
  const maxTrials = flags.maxTrials ?? SEQUENTIAL_DEFAULTS.maxTrials;
  const sequential = { maxTrials, alpha: flags.alpha ?? SEQUENTIAL_DEFAULTS.alpha, ciWidth: flags.ciWidth };
  return { trials: maxTrials, sequential };
}

export function sequentialSummary(rule: SequentialOptions, stops: SequentialStop[], groups: number): SequentialSummary {
  return {
    method: SEQUENTIAL_METHOD,
    alpha: rule.alpha,
    max_trials: rule.maxTrials,
    ci_width: rule.ciWidth,
    round: SEQUENTIAL_ROUND,
    complete: stops.length === groups,
    tasks: stops,
  };
}

const EXCLUDED: ReadonlySet<string> = EXCLUDED_STATUSES;

/** One task × agent's outcomes so far, fed a round at a time; says whether (and why) it stops. */
export class SequentialTracker {
  private readonly outcomes: { withSkills: Map<number, boolean>; noSkills: Map<number, boolean> };

  constructor(
    private readonly rule: SequentialOptions,
    private readonly arms: readonly Arm[],
    private readonly passThreshold: number,
  ) {
    this.outcomes = { withSkills: new Map(), noSkills: new Map() };
  }

  record(result: TrialResult): void {
    if (EXCLUDED.has(result.status)) return;
    const map = result.arm === 'with-skills' ? this.outcomes.withSkills : this.outcomes.noSkills;
    map.set(result.trial_index, result.reward !== undefined && result.reward >= this.passThreshold);
  }

  /** After `trials` trials per arm: undefined to go on, else the stop. */
  look(trials: number): Omit<SequentialStop, 'task' | 'agent' | 'model'> | undefined {
    const outcomes: ArmOutcomes = {
      withSkills: this.arms.includes('with-skills') ? this.outcomes.withSkills : undefined,
      noSkills: this.arms.includes('no-skills') ? this.outcomes.noSkills : undefined,
    };
    const decision = sequentialDecision(sequentialState(outcomes, trials), this.rule);
    if (!decision.stop || decision.reason === undefined) return undefined;
    return { trials, reason: decision.reason, e_value: decision.eValue, direction: decision.direction };
  }
}

/** `decided after 8 trials per arm (with-skills better, e = 27.1)` and the like, for the printed summary. */
export function describeStop(stop: SequentialStop): string {
  const who = stop.model ? `${stop.task} ${stop.agent} (${stop.model})` : `${stop.task} ${stop.agent}`;
  const what: Record<StopReason, string> = {
    decided: `decided (${stop.direction} better)`,
    futile: 'futile (no outcome of the trials left could decide it)',
    'ci-width': 'intervals narrow enough',
    'max-trials': 'max trials reached',
  };
  return `${who}: ${what[stop.reason]} after ${stop.trials} trials per arm, e = ${stop.e_value.toFixed(1)}`;
}
