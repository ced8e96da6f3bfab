/**
 * The analyze benchmark: 100,000 trial results (bench/analyze/generate.ts) analysed in a fresh child
 * process, several times. Each run prints the wall time of the analysis, the CPU it used (every thread of
 * the child), the peak RSS of the child process, their ratios to the targets (< 2 s, < 400 MB), and the
 * machine's load average around it: on a shared machine the wall time mostly says how much CPU the others
 * left, and the CPU time is what the analysis costs. The main thread's CPU is about what the wall time
 * would be on an idle machine (the analysis runs on that thread; V8's collector helps from others).
 *
 *   npx tsx bench/analyze/run.ts [--count N] [--dir DIR] [--runs N] [--compiled DIST]
 *
 * --compiled DIST measures a tsc build (`pnpm run build`, then --compiled dist) instead of the sources.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COUNT, defaultBenchDir, generate } from './generate.js';

const TARGET_SECONDS = 2;
const TARGET_RSS_MB = 400;

interface Measured {
  trials: number;
  files: number;
  seconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** Absent where /proc is not there. */
  mainThreadSeconds?: number | undefined;
  peakRssMb: number;
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const count = Number(flag('--count') ?? DEFAULT_COUNT);
const dir = flag('--dir') ?? defaultBenchDir(count);
const runs = Number(flag('--runs') ?? 3);
const compiled = flag('--compiled');

const generateStarted = performance.now();
await generate(dir, count);
console.log(
  `data: ${count} result.json files in ${dir} (ready in ${((performance.now() - generateStarted) / 1000).toFixed(1)} s)`,
);
console.log(`code: ${compiled === undefined ? 'TypeScript sources under tsx' : `compiled build in ${compiled}`}`);

const measure = fileURLToPath(new URL('./measure.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const load = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const results: Measured[] = [];
for (let run = 1; run <= runs; run++) {
  const loadBefore = load();
  const wallStarted = performance.now();
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', measure, dir, ...(compiled === undefined ? [] : ['--compiled', compiled])],
    {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const wall = (performance.now() - wallStarted) / 1000;
  const result = JSON.parse(output.trim().split('\n').pop()!) as Measured;
  results.push(result);
  const cpu = result.userSeconds + result.systemSeconds;
  console.log(
    `run ${run}: ${result.files} files, ${result.trials} trials | ` +
      `${result.seconds.toFixed(2)} s (${(result.seconds / TARGET_SECONDS).toFixed(2)} × ${TARGET_SECONDS} s) | ` +
      `CPU ${cpu.toFixed(2)} s (user ${result.userSeconds.toFixed(2)} + system ${result.systemSeconds.toFixed(2)}` +
      `${result.mainThreadSeconds === undefined ? '' : `; main thread ${result.mainThreadSeconds.toFixed(2)} s`}) | ` +
      `peak RSS ${result.peakRssMb.toFixed(0)} MB (${(result.peakRssMb / TARGET_RSS_MB).toFixed(2)} × ${TARGET_RSS_MB} MB) | ` +
      `process ${wall.toFixed(2)} s incl. start-up | load ${loadBefore} → ${load()}`,
  );
}
if (results.length > 1) {
  const seconds = results.map((result) => result.seconds).sort((x, y) => x - y);
  const rss = Math.max(...results.map((result) => result.peakRssMb));
  console.log(
    `${results.length} runs: ${seconds.map((value) => value.toFixed(2)).join(' / ')} s (best ${(seconds[0]! / TARGET_SECONDS).toFixed(2)} × the target); ` +
      `peak RSS at most ${rss.toFixed(0)} MB (${(rss / TARGET_RSS_MB).toFixed(2)} × the target)`,
  );
}
