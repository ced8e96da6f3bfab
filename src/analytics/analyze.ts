import type { Arm } from '../arms/spec.js';
import { type ReadOptions, readResults } from '../results/read.js';
import { AnalysisAccumulator, type AnalysisSettings } from './aggregate.js';
import type { AnalysisReport } from './report.js';

/** Streams every result under `dirs` through the accumulator: the whole analysis in one pass. */
export async function analyzeResults(
  dirs: readonly string[],
  settings: AnalysisSettings,
  readOptions?: ReadOptions,
): Promise<AnalysisReport> {
  const accumulator = new AnalysisAccumulator(settings);
  const summary = await readResults(dirs, (record) => accumulator.add(record), readOptions);
  return accumulator.finish(summary);
}

/** Which arms to compare (`analyze --baseline ARM --treatment ARM`); unset: no-skills against every other arm. */
export interface ComparisonChoice {
  baseline?: Arm | undefined;
  treatment?: Arm | undefined;
}

/**
 * One pass over the results, one report per comparison: the baseline against each other arm (or the one
 * treatment asked for), each with the statistics of the usual with/without report.
 */
export async function analyzeComparisons(
  dirs: readonly string[],
  settings: AnalysisSettings,
  choice: ComparisonChoice = {},
  readOptions?: ReadOptions,
): Promise<AnalysisReport[]> {
  const accumulator = new AnalysisAccumulator(settings);
  const summary = await readResults(dirs, (record) => accumulator.add(record), readOptions);
  const generatedAt = new Date();
  return accumulator
    .comparisons(choice.baseline, choice.treatment)
    .map((comparison) => accumulator.finish(summary, generatedAt, comparison));
}
