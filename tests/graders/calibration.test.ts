import { describe, expect, it } from 'vitest';
import { calibrateRubrics } from '../../src/graders/calibration.js';
import type { TrialResult } from '../../src/results/schema.js';

function trial(task: string, agent: string, score: number | undefined): TrialResult {
  return {
    task,
    agent,
    graders: [
      { name: 'tests', type: 'verifier', weight: 1, score: 1 },
      { name: 'approach', type: 'llm_rubric', weight: 1, score },
    ],
  } as TrialResult;
}

describe('calibrateRubrics', () => {
  it('passes a rubric whose oracle mean beats the nop mean by 0.2, flags one that does not', () => {
    const results = [
      trial('good', 'oracle', 0.9),
      trial('good', 'oracle', 0.7),
      trial('good', 'nop', 0.1),
      trial('flat', 'oracle', 0.6),
      trial('flat', 'nop', 0.5),
      trial('failing', 'oracle', 0.9),
      trial('failing', 'nop', undefined),
    ];
    const lines = calibrateRubrics(results);
    expect(lines.map(({ task, ok }) => [task, ok])).toEqual([
      ['good', true],
      ['flat', false],
      ['failing', false],
    ]);
    expect(lines[0]?.oracle).toBeCloseTo(0.8, 10);
    expect(lines[1]?.problem).toMatch(
      /cannot tell the solution from an untouched environment \(oracle 0\.60, nop 0\.50/,
    );
    expect(lines[2]?.problem).toMatch(/no score from the judge on nop/);
  });
});
