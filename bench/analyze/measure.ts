/**
 * Child process of bench/analyze/run.ts: runs the analyze command once on DIR (terminal table to a
 * sink, plus --json and --html rendered) and prints one JSON line with its time and peak RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCommand } from '../../src/cli/analyze.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: measure.ts DIR');
const out = await mkdtemp(join(tmpdir(), 'skill-eval-bench-out-'));
let printed = 0;
// CPU of the analysis alone: Node start-up and tsx's transpiling happen before this point.
const cpuBefore = process.resourceUsage();
const started = performance.now();
const { report } = await analyzeCommand({ dirs: [dir], html: join(out, 'report.html'), csv: join(out, 'report.csv'), color: false }, process.cwd(), {
  stdout: (text) => {
    printed += text.length;
  },
  stderr: () => {},
});
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
await rm(out, { recursive: true, force: true });
console.log(
  JSON.stringify({
    trials: report.inputs.trials,
    files: report.inputs.filesRead,
    configs: report.configs.length,
    seconds,
    userSeconds: (usage.userCPUTime - cpuBefore.userCPUTime) / 1e6,
    systemSeconds: (usage.systemCPUTime - cpuBefore.systemCPUTime) / 1e6,
    // Linux reports kilobytes.
    peakRssMb: usage.maxRSS / 1024,
    printedChars: printed,
  }),
);
