import type { TrialResult } from '../results/schema.js';

/**
 * `tasks check` for judges: a rubric is only worth its weight if it tells the reference solution (oracle) from
 * an untouched environment (nop). Its mean score on the oracle's trials must beat the nop's by CALIBRATION_MARGIN.
 */
export const CALIBRATION_MARGIN = 0.2;

export interface RubricCalibration {
  task: string;
  grader: string;
  /** Mean score over the agent's trials; undefined when the judge never gave one. */
  oracle?: number | undefined;
  nop?: number | undefined;
  ok: boolean;
  problem?: string | undefined;
}

function meanScore(results: readonly TrialResult[], task: string, agent: string, grader: string): number | undefined {
  const scores = results
    .filter((r) => r.task === task && r.agent === agent)
    .flatMap((r) => r.graders?.filter((g) => g.name === grader && g.score !== undefined).map((g) => g.score!) ?? []);
  return scores.length === 0 ? undefined : scores.reduce((a, b) => a + b, 0) / scores.length;
}

/** One line per task × llm_rubric grader found in the results (oracle and nop trials of a check). */
export function calibrateRubrics(results: readonly TrialResult[]): RubricCalibration[] {
  const seen = new Map<string, { task: string; grader: string }>();
  for (const result of results)
    for (const grader of result.graders ?? [])
      if (grader.type === 'llm_rubric')
        seen.set(JSON.stringify([result.task, grader.name]), { task: result.task, grader: grader.name });
  return [...seen.values()].map(({ task, grader }) => {
    const oracle = meanScore(results, task, 'oracle', grader);
    const nop = meanScore(results, task, 'nop', grader);
    const line: RubricCalibration = { task, grader, oracle, nop, ok: true };
    if (oracle === undefined || nop === undefined) {
      line.ok = false;
      line.problem = `rubric "${grader}" got no score from the judge on ${oracle === undefined ? 'the oracle' : 'nop'}`;
    } else if (oracle - nop < CALIBRATION_MARGIN) {
      line.ok = false;
      line.problem = `rubric "${grader}" cannot tell the solution from an untouched environment (oracle ${oracle.toFixed(2)}, nop ${nop.toFixed(2)}; needs a gap of ${CALIBRATION_MARGIN})`;
    }
    return line;
  });
}
