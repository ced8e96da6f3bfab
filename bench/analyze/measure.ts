/**
 * Child process of bench/analyze/run.ts: runs the analyze command once on DIR (terminal table to a
 * sink, CSV and HTML written) and prints one JSON line with its time, CPU and the peak RSS of the
 * whole process (main thread and reading workers: they are threads of this process).
 *
 *   node --import tsx bench/analyze/measure.ts DIR [--compiled DIST]
 *
 * With --compiled, the analyze command comes from a tsc build (e.g. dist/) instead of the sources,
 * so the reading workers run as plain JavaScript, as they do for an installed skill-eval.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { analyzeCommand as AnalyzeCommand } from '../../src/cli/analyze.js';

const args = process.argv.slice(2);
const compiledIndex = args.indexOf('--compiled');
const compiled = compiledIndex >= 0 ? args[compiledIndex + 1] : undefined;
const dir = args.find((arg, index) => !arg.startsWith('--') && (compiledIndex < 0 || index !== compiledIndex + 1));
if (!dir) throw new Error('usage: measure.ts DIR [--compiled DIST]');
const { analyzeCommand } = (await import(
  compiled === undefined ? '../../src/cli/analyze.js' : pathToFileURL(resolve(compiled, 'cli/analyze.js')).href
)) as { analyzeCommand: typeof AnalyzeCommand };

const out = await mkdtemp(join(tmpdir(), 'skill-eval-bench-out-'));
let printed = 0;
// CPU of the analysis alone: Node start-up and tsx's transpiling happen before this point.
const cpuBefore = process.resourceUsage();
const started = performance.now();
const { report } = await analyzeCommand(
  { dirs: [dir], html: join(out, 'report.html'), csv: join(out, 'report.csv'), color: false },
  process.cwd(),
  {
    stdout: (text) => {
      printed += text.length;
    },
    stderr: () => {},
  },
);
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
await rm(out, { recursive: true, force: true });
console.log(
  JSON.stringify({
    trials: report.inputs.trials,
    files: report.inputs.filesRead,
    configs: report.configs.length,
    seconds,
    // All threads of the process: the workers' reading is in here.
    userSeconds: (usage.userCPUTime - cpuBefore.userCPUTime) / 1e6,
    systemSeconds: (usage.systemCPUTime - cpuBefore.systemCPUTime) / 1e6,
    // getrusage's peak RSS of the whole process; Linux reports kilobytes.
    peakRssMb: usage.maxRSS / 1024,
    printedChars: printed,
  }),
);
