import type { AnalysisReport } from './report.js';

/**
 * CI gates. Each applies to every agent/model configuration on its own (never to a pooled number):
 * - failUnder: the with-skills macro pass rate (mean over tasks of the per-task pass rates) must be ≥ the rate;
 * - minGain: the aggregate normalized gain g must be ≥ the value.
 * A configuration where the number is undefined (no with-skills data; g undefined because an arm is
 * missing or the baseline is 100 %) fails the gate: a gate that cannot be evaluated is not met.
 */

export interface Gates {
  /** A rate in [0, 1]. */
  failUnder?: number | undefined;
  minGain?: number | undefined;
}

export interface GateOutcome {
  gate: 'fail-under' | 'min-gain';
  config: string;
  passed: boolean;
  message: string;
}

export function evaluateGates(report: AnalysisReport, gates: Gates): GateOutcome[] {
  const outcomes: GateOutcome[] = [];
  for (const config of report.configs) {
    if (gates.failUnder !== undefined) {
      // The treatment arm: with-skills in the usual comparison.
      const arm = config.summary.comparison.treatment;
      const withSkills = config.summary.arms[arm];
      const threshold = precisePercent(gates.failUnder);
      if (!withSkills) {
        outcomes.push({
          gate: 'fail-under',
          config: config.label,
          passed: false,
          message: `${config.label}: no ${arm} data, so the pass rate cannot reach ${threshold}`,
        });
      } else {
        const passed = withSkills.passRate >= gates.failUnder;
        outcomes.push({
          gate: 'fail-under',
          config: config.label,
          passed,
          message: `${config.label}: ${arm} pass rate ${precisePercent(withSkills.passRate)} ${passed ? '≥' : '<'} ${threshold} (--fail-under)`,
        });
      }
    }
    if (gates.minGain !== undefined) {
      const { gain, passRateWithout, tasks } = config.summary.paired;
      const minimum = preciseNumber(gates.minGain);
      if (gain === undefined) {
        const why =
          tasks === 0
            ? 'no task has both arms'
            : passRateWithout === 1
              ? 'the no-skills baseline is 100%'
              : 'an arm has no data';
        outcomes.push({
          gate: 'min-gain',
          config: config.label,
          passed: false,
          message: `${config.label}: normalized gain undefined (${why}), so it cannot reach ${minimum}`,
        });
      } else {
        const passed = gain >= gates.minGain;
        outcomes.push({
          gate: 'min-gain',
          config: config.label,
          passed,
          message: `${config.label}: normalized gain ${preciseNumber(gain)} ${passed ? '≥' : '<'} ${minimum} (--min-gain)`,
        });
      }
    }
  }
  return outcomes;
}

/** More digits than the tables show, so that a near miss never reads "80.0% < 80.0%". */
function precisePercent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

function preciseNumber(value: number): string {
  return String(Number(value.toFixed(4)));
}
