import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agents } from '../../src/agents/registry.js';
import { createLocalProvider } from '../../src/environments/local.js';
import { runJob } from '../../src/jobs/run-job.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { Redactor } from '../../src/trial/secrets.js';
const task = await loadTaskOrThrow(resolve(import.meta.dirname, '../../tests/fixtures/jobs/trivial'));
const provider = createLocalProvider();
const n = Number(process.argv[2] ?? 200);
for (const round of [0, 1]) {
  const jobDir = await mkdtemp(join(tmpdir(), 'prof-job-'));
  const t = performance.now();
  const out = await runJob({ jobId: 'p', jobDir, tasks: [task], agents: [{ agent: agents.oracle }], arms: ['no-skills'], trials: round ? n : 20, provider, concurrency: 4, env: {}, redactor: new Redactor([]) });
  const s = (performance.now() - t) / 1000;
  if (round) {
    console.log(`${n} trials ${(n / s).toFixed(1)}/s`);
    const phases: Record<string, number> = {};
    for (const r of out.results) for (const [k, v] of Object.entries(r.timings.phases)) phases[k] = (phases[k] ?? 0) + v / n;
    console.log(phases, 'total', out.results.reduce((a, r) => a + r.timings.total_ms, 0) / n);
  }
  await rm(jobDir, { recursive: true, force: true });
}
{
  const { readFileSync } = await import('node:fs');
  const cpu = () => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const jobDir = await mkdtemp(join(tmpdir(), 'prof-job-'));
  const c0 = cpu(); const u0 = process.cpuUsage(); const t = performance.now();
  await runJob({ jobId: 'p', jobDir, tasks: [task], agents: [{ agent: agents.oracle }], arms: ['no-skills'], trials: n, provider, concurrency: 4, env: {}, redactor: new Redactor([]) });
  const s = (performance.now() - t) / 1000; const c1 = cpu(); const u = process.cpuUsage(u0);
  const d = c1.map((v, i) => v - c0[i]!); const tot = d.reduce((a, b) => a + b, 0); const idle = d[3]! + d[4]!;
  console.log(`again ${(n / s).toFixed(1)}/s; system busy ${(100 * (1 - idle / tot)).toFixed(0)}% of 2 cores; main cpu/trial ${((u.user + u.system) / 1000 / n).toFixed(2)} ms`);
  await rm(jobDir, { recursive: true, force: true });
}
