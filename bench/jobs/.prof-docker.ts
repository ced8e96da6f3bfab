import './.dockpatch.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agents } from '../../src/agents/registry.js';
import { createDockerProvider } from '../../src/environments/docker.js';
import { runJob } from '../../src/jobs/run-job.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { Redactor } from '../../src/trial/secrets.js';
const task = await loadTaskOrThrow(resolve(import.meta.dirname, '../../tests/fixtures/jobs/trivial'));
const provider = createDockerProvider({});
await provider.preflight();
const n = Number(process.argv[2] ?? 24);
for (const round of [0, 1]) {
  const jobDir = await mkdtemp(join(tmpdir(), 'prof-job-'));
  const t = performance.now();
  const out = await runJob({ jobId: 'p', jobDir, tasks: [task], agents: [{ agent: agents.oracle }], arms: ['no-skills'], trials: round ? n : 4, provider, concurrency: 4, env: {}, redactor: new Redactor([]) });
  const s = (performance.now() - t) / 1000;
  if (round) {
    console.log(`${n} trials ${(n / s).toFixed(2)}/s`);
    const phases: Record<string, number> = {};
    for (const r of out.results) for (const [k, v] of Object.entries(r.timings.phases)) phases[k] = Math.round((phases[k] ?? 0) + v / n);
    console.log(phases, 'total', out.results.reduce((a, r) => a + r.timings.total_ms, 0) / n, out.results.filter(r => r.status !== 'passed').length, 'not passed');
  }
  await rm(jobDir, { recursive: true, force: true });
}
