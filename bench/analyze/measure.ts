/**
 * Child process of bench/analyze/run.ts: runs the analyze command once on DIR (terminal table to a
 * sink, CSV and HTML written) and prints one JSON line with its time, CPU and the peak RSS of the
 * whole process.
 *
 *   node --import tsx bench/analyze/measure.ts DIR [--compiled DIST]
 *
 * With --compiled, the analyze command comes from a tsc build (e.g. dist/) instead of the sources,
 * as it runs for an installed skill-eval.
 */
import { readFileSync } from 'node:fs';
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

/**
 * CPU seconds of the main thread alone (Linux: /proc/self/task/PID/stat, utime + stime in clock ticks of
 * 1/100 s). The analysis runs on that thread, so on an idle machine its wall time is about this; on a shared
 * one the wall time also counts the waits for a core.
 */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

const out = await mkdtemp(join(tmpdir(), 'skill-eval-bench-out-'));
let printed = 0;
// CPU of the analysis alone: Node start-up and tsx's transpiling happen before this point.
const cpuBefore = process.resourceUsage();
const mainBefore = mainThreadCpuSeconds();
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
const mainAfter = mainThreadCpuSeconds();
await rm(out, { recursive: true, force: true });
console.log(
  JSON.stringify({
    trials: report.inputs.trials,
    files: report.inputs.filesRead,
    configs: report.configs.length,
    seconds,
    // All threads of the process (V8's garbage collector and libuv's pool included).
    userSeconds: (usage.userCPUTime - cpuBefore.userCPUTime) / 1e6,
    systemSeconds: (usage.systemCPUTime - cpuBefore.systemCPUTime) / 1e6,
    mainThreadSeconds: mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
    // getrusage's peak RSS of the whole process; Linux reports kilobytes.
    peakRssMb: usage.maxRSS / 1024,
    printedChars: printed,
  }),
);
