/**
 * The analyze benchmark: 100,000 trial results (bench/analyze/generate.ts) analysed in a fresh child
 * process, which prints the time of the analysis and the peak RSS of the whole process. Targets: < 2 s
 * and < 400 MB. One measured run; figures vary with the machine's load, so the load average is printed too.
 *
 *   npx tsx bench/analyze/run.ts [--count N] [--dir DIR]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COUNT, defaultBenchDir, generate } from './generate.js';

const TARGET_SECONDS = 2;
const TARGET_RSS_MB = 400;

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const count = Number(flag('--count') ?? DEFAULT_COUNT);
const dir = flag('--dir') ?? defaultBenchDir(count);

const generateStarted = performance.now();
await generate(dir, count);
console.log(`data: ${count} result.json files in ${dir} (ready in ${((performance.now() - generateStarted) / 1000).toFixed(1)} s)`);

const measure = fileURLToPath(new URL('./measure.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const wallStarted = performance.now();
const output = execFileSync(tsx, [measure, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const wall = (performance.now() - wallStarted) / 1000;
const result = JSON.parse(output.trim().split('\n').pop()!) as {
  trials: number;
  files: number;
  seconds: number;
  userSeconds: number;
  systemSeconds: number;
  peakRssMb: number;
};
console.log(`analyzed: ${result.trials} trials from ${result.files} files (terminal, CSV and HTML rendered)`);
console.log(`time:     ${result.seconds.toFixed(2)} s  (${(result.seconds / TARGET_SECONDS).toFixed(2)} × the ${TARGET_SECONDS} s target; CPU during the analysis: user ${result.userSeconds.toFixed(2)} s + system ${result.systemSeconds.toFixed(2)} s)`);
console.log(`peak RSS: ${result.peakRssMb.toFixed(0)} MB (${(result.peakRssMb / TARGET_RSS_MB).toFixed(2)} × the ${TARGET_RSS_MB} MB target; whole process incl. Node and tsx)`);
console.log(`process:  ${wall.toFixed(2)} s wall incl. Node/tsx start-up; load average ${loadavg().map((load) => load.toFixed(2)).join(' ')} on this machine`);
