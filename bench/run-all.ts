/**
 * Runs every benchmark in turn (each prints its own ratios, measured in one run). Benchmarks that need
 * something absent (a Docker engine) say so and are skipped; nothing here is a pass/fail test.
 *
 *   pnpm run bench            all
 *   pnpm run bench local      those whose path contains "local"
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BENCHMARKS = [
  'bench/local/overhead.ts',
  'bench/docker/overhead.ts',
  'bench/jobs/throughput.ts',
  'bench/analyze/run.ts',
  'bench/redact/run.ts',
  'bench/sequential/run.ts',
  'bench/gateway/latency.ts',
];

const filter = process.argv[2];
for (const bench of BENCHMARKS.filter((b) => !filter || b.includes(filter))) {
  if (!existsSync(join(ROOT, bench))) continue;
  console.log(`\n=== ${bench}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, bench)], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) console.log(`(${bench} exited with ${run.status ?? run.signal})`);
}
