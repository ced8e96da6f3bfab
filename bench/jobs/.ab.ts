import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { agents } from '../../src/agents/registry.js';
import { createLocalProvider, makePathRewriter } from '../../src/environments/local.js';
import { runJob } from '../../src/jobs/run-job.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { Redactor } from '../../src/trial/secrets.js';
const task = await loadTaskOrThrow(resolve(import.meta.dirname, '../../tests/fixtures/jobs/trivial'));
const testScript = await readFile(join(task.paths.testsDir, 'test.sh'), 'utf8');
const provider = createLocalProvider();
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => { const c = spawn(command, args, { cwd, env, stdio: 'ignore' }); c.once('error', fail); c.once('exit', (code) => done(code ?? -1)); });
}
async function raw(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-raw-'));
  const app = join(root, 'app');
  await mkdir(app, { recursive: true });
  await mkdir(join(root, 'logs/verifier'), { recursive: true });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, TMPDIR: root };
  await run('bash', [join(task.paths.solutionDir!, 'solve.sh')], app, env);
  await run('bash', ['-c', makePathRewriter(root, ['/logs'])(testScript)], app, env);
  const reward = (await readFile(join(root, 'logs/verifier/reward.txt'), 'utf8')).trim();
  await rm(root, { recursive: true, force: true });
  if (reward !== '1') throw new Error('raw');
}
const n = Number(process.argv[2] ?? 200);
const c = Number(process.argv[3] ?? 4);
async function ours(): Promise<number> {
  const jobDir = await mkdtemp(join(tmpdir(), 'prof-job-'));
  const t = performance.now();
  await runJob({ jobId: 'p', jobDir, tasks: [task], agents: [{ agent: agents.oracle }], arms: ['no-skills'], trials: n, provider, concurrency: c, env: {}, redactor: new Redactor([]) });
  const r = n / ((performance.now() - t) / 1000);
  await rm(jobDir, { recursive: true, force: true });
  return r;
}
async function rawRate(): Promise<number> { const limit = pLimit(c); const t = performance.now(); await Promise.all(Array.from({ length: n }, () => limit(raw))); return n / ((performance.now() - t) / 1000); }
await rawRate(); await ours();
const ratios: number[] = [];
for (let i = 0; i < 4; i++) { const r = await rawRate(); const o = await ours(); ratios.push(o / r); console.log(`raw ${r.toFixed(1)} ours ${o.toFixed(1)} ratio ${(100 * o / r).toFixed(0)}%`); }
ratios.sort(); console.log('median ratio', (100 * (ratios[1]! + ratios[2]!) / 2).toFixed(0) + '%');
