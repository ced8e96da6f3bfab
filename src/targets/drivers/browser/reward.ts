/**
 * Rewards as the benchmark defines them: the page's `reward` read as given (negative when the range allows),
 * success by the contract's `success` expression or by a threshold, and the per-task breakdown. Pure logic:
 * the episode code reads the values from the page, this decides what they mean.
 */

/** A page value as a reward; throws when it is no number (an expression error, never a silent 0). */
export function readReward(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new Error(`gave ${value === undefined ? 'undefined' : JSON.stringify(value)}, not a number`);
}

/** Whether an episode succeeded: the `success` expression's value when the contract has one, else reward > above. */
export function isSuccess(
  reward: number | undefined,
  success: unknown,
  above: number,
  hasExpression: boolean,
): boolean {
  if (hasExpression) return Boolean(success);
  return reward !== undefined && reward > above;
}

/** `{seed}` in a page path or expression is the episode's seed. */
export function withSeed(text: string, seed: number): string {
  return text.replaceAll('{seed}', String(seed));
}

/** The first reward outside `scoring.range`, as a message; undefined when every reward lies inside. */
export function rewardOutOfRange(
  samples: readonly { id?: unknown; seed?: unknown; reward?: unknown }[],
  [low, high]: readonly [number, number],
): string | undefined {
  const outside = samples.filter((s) => typeof s.reward === 'number' && (s.reward < low || s.reward > high));
  if (outside.length === 0) return undefined;
  const first = outside[0]!;
  return `${outside.length} of ${samples.length} episode rewards lie outside scoring.range [${low}, ${high}], e.g. ${first.reward} (episode ${String(first.id)}, seed ${String(first.seed)}); widen scoring.range if the benchmark's rewards go there`;
}

export interface EpisodeOutcome {
  group: string;
  reward: number | null;
  success: boolean;
  error?: string | undefined;
}

export type TaskRow = {
  episodes: number;
  successes: number;
  success_rate: number;
  mean_reward: number;
  errors: number;
};

/**
 * Success rate and mean reward over episodes (overall and per group). An episode with no reward (an error)
 * is a failure and counts as min(0, range low) in the mean, so an error never raises a score.
 */
export function summariseEpisodes(outcomes: readonly EpisodeOutcome[], low: number): TaskRow {
  const successes = outcomes.filter((o) => o.success).length;
  const total = outcomes.reduce((sum, o) => sum + (o.reward ?? Math.min(0, low)), 0);
  return {
    episodes: outcomes.length,
    successes,
    success_rate: outcomes.length ? successes / outcomes.length : 0,
    mean_reward: outcomes.length ? total / outcomes.length : 0,
    errors: outcomes.filter((o) => o.error !== undefined).length,
  };
}

export function breakdownByGroup(outcomes: readonly EpisodeOutcome[], low: number): Record<string, TaskRow> {
  const groups = new Map<string, EpisodeOutcome[]>();
  for (const outcome of outcomes) groups.set(outcome.group, [...(groups.get(outcome.group) ?? []), outcome]);
  return Object.fromEntries([...groups].map(([group, rows]) => [group, summariseEpisodes(rows, low)]));
}
