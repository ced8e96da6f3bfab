import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { makePathRewriter } from '../../src/environments/local.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
const task = await loadTaskOrThrow(resolve(import.meta.dirname, '../../tests/fixtures/jobs/trivial'));
const testScript = await readFile(join(task.paths.testsDir, 'test.sh'), 'utf8');
let spawnMs = 0;
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const t = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: 'ignore' });
    spawnMs += performance.now() - t;
    child.once('error', fail);
    child.once('exit', (code) => done(code ?? -1));
  });
}
async function rawLocalTrial(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-raw-'));
  const app = join(root, 'app');
  await mkdir(app, { recursive: true });
  await mkdir(join(root, 'logs/verifier'), { recursive: true });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, TMPDIR: root };
  await run('bash', [join(task.paths.solutionDir!, 'solve.sh')], app, env);
  await run('bash', ['-c', makePathRewriter(root, ['/logs'])(testScript)], app, env);
  const reward = (await readFile(join(root, 'logs/verifier/reward.txt'), 'utf8')).trim();
  await rm(root, { recursive: true, force: true });
  if (reward !== '1') throw new Error(`raw trial: reward ${reward}`);
}
const cpu = () => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
const n = Number(process.argv[2] ?? 400);
const limit = pLimit(4);
await Promise.all(Array.from({ length: 20 }, () => limit(rawLocalTrial)));
spawnMs = 0;
const c0 = cpu(); const u0 = process.cpuUsage(); const t = performance.now();
await Promise.all(Array.from({ length: n }, () => limit(rawLocalTrial)));
const s = (performance.now() - t) / 1000; const c1 = cpu(); const u = process.cpuUsage(u0);
const d = c1.map((v, i) => v - c0[i]!); const tot = d.reduce((a, b) => a + b, 0); const idle = d[3]! + d[4]!;
console.log(`raw ${(n / s).toFixed(1)}/s; system busy ${(100 * (1 - idle / tot)).toFixed(0)}% of 2 cores; node main cpu/trial ${((u.user + u.system) / 1000 / n).toFixed(2)} ms; spawn sync/trial ${(spawnMs / n).toFixed(2)} ms`);
