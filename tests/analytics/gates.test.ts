import { describe, expect, it } from 'vitest';
import { AnalysisAccumulator } from '../../src/analytics/aggregate.js';
import { evaluateGates } from '../../src/analytics/gates.js';
import type { AnalysisReport } from '../../src/analytics/report.js';
import type { Arm } from '../../src/results/read.js';
import { EMPTY_READ, trialRecord } from './records.js';

function report(
  cells: Array<{ agent?: string; task?: string; arm: Arm; passes: number; fails: number }>,
): AnalysisReport {
  const accumulator = new AnalysisAccumulator({ passThreshold: 1, includeErrorsAsFailures: false, k: [1] });
  for (const cell of cells) {
    for (let i = 0; i < cell.passes + cell.fails; i++) {
      const passed = i < cell.passes;
      accumulator.add(
        trialRecord({
          task: cell.task ?? 'task',
          agent: cell.agent ?? 'agent-a',
          model: undefined,
          arm: cell.arm,
          status: passed ? 'passed' : 'failed',
          reward: passed ? 1 : 0,
          durationMs: undefined,
          tokens: undefined,
        }),
      );
    }
  }
  return accumulator.finish({ ...EMPTY_READ, searched: [] });
}

describe('evaluateGates', () => {
  const twoAgents = report([
    { agent: 'agent-a', arm: 'no-skills', passes: 2, fails: 2 },
    { agent: 'agent-a', arm: 'with-skills', passes: 3, fails: 1 },
    { agent: 'agent-b', arm: 'no-skills', passes: 1, fails: 3 },
    { agent: 'agent-b', arm: 'with-skills', passes: 4, fails: 0 },
  ]);

  it("checks --fail-under against every configuration's with-skills rate, never a pooled one", () => {
    const outcomes = evaluateGates(twoAgents, { failUnder: 0.8 });
    expect(outcomes.map((o) => [o.config, o.passed])).toEqual([
      ['agent-a', false],
      ['agent-b', true],
    ]);
    expect(outcomes[0]!.message).toBe('agent-a: with-skills pass rate 75% < 80% (--fail-under)');
    expect(evaluateGates(twoAgents, { failUnder: 0.75 }).every((o) => o.passed)).toBe(true);
  });

  it("checks --min-gain against every configuration's aggregate g", () => {
    // agent-a: (0.75 − 0.5)/0.5 = 0.5; agent-b: (1 − 0.25)/0.75 = 1.
    const outcomes = evaluateGates(twoAgents, { minGain: 0.6 });
    expect(outcomes.map((o) => o.passed)).toEqual([false, true]);
    expect(outcomes[0]!.message).toBe('agent-a: normalized gain 0.5 < 0.6 (--min-gain)');
    expect(evaluateGates(twoAgents, { minGain: -0.1 }).every((o) => o.passed)).toBe(true);
  });

  it('fails a gate that cannot be evaluated: no with-skills data, or g undefined', () => {
    const onlyBaseline = report([{ arm: 'no-skills', passes: 1, fails: 1 }]);
    expect(evaluateGates(onlyBaseline, { failUnder: 0 })[0]).toMatchObject({
      passed: false,
      message: expect.stringContaining('no with-skills data'),
    });
    const perfectBaseline = report([
      { arm: 'no-skills', passes: 2, fails: 0 },
      { arm: 'with-skills', passes: 2, fails: 0 },
    ]);
    expect(evaluateGates(perfectBaseline, { minGain: 0 })[0]).toMatchObject({
      passed: false,
      message: expect.stringContaining('baseline is 100%'),
    });
  });

  it('evaluates nothing without gates', () => {
    expect(evaluateGates(twoAgents, {})).toEqual([]);
  });
});
