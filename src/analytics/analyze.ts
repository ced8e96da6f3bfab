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
