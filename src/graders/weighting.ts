import type { GraderResult } from './types.js';

export type CombinedReward = { ok: true; reward: number } | { ok: false; message: string };

/**
 * The trial's reward: Σ score·weight / Σ weight. Any grader without a score (it failed, or never ran) makes
 * the whole reward undefined — a verifier error, never a 0 in its place.
 */
export function combineScores(results: readonly GraderResult[]): CombinedReward {
  const failed = results.find((result) => result.score === undefined);
  if (failed) return { ok: false, message: `grader "${failed.name}" (${failed.type}): ${failed.error ?? 'no score'}` };
  const totalWeight = results.reduce((sum, result) => sum + result.weight, 0);
  if (results.length === 0 || totalWeight <= 0) return { ok: false, message: 'the task has no grader with a weight' };
  const weighted = results.reduce((sum, result) => sum + (result.score ?? 0) * result.weight, 0);
  return { ok: true, reward: weighted / totalWeight };
}
