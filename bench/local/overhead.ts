/**
 * Local-provider overhead: per-trial wall time of skill-eval's full lifecycle (oracle on superlint_demo)
 * against the bare floor — copy the environment into a temp dir, spawn solve.sh, spawn test.sh, remove it —
 * measured in the same run, interleaved so both see the same machine state.
 *
 *   npx tsx bench/local/overhead.ts [trials=20]
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agents } from '../../src/agents/registry.js';
import { createLocalProvider, makePathRewriter } from '../../src/environments/local.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';

const trials = Number(process.argv[2] ?? 20);
const taskDir = resolve(import.meta.dirname, '../../tasks/superlint_demo');

async function bareTrial(): Promise<number> {
  const started = performance.now();
  const root = await mkdtemp(join(tmpdir(), 'bench-bare-'));
  const rewrite = makePathRewriter(root, ['/logs', '/tests', '/solution', '/app', '/usr/local/bin/superlint']);
  await cp(join(taskDir, 'environment', 'app'), join(root, 'app'), { recursive: true });
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await cp(join(taskDir, 'environment', 'superlint'), join(root, 'usr/local/bin/superlint'));
  await mkdir(join(root, 'logs/verifier'), { recursive: true });
  await mkdir(join(root, 'tests'), { recursive: true });
  await writeFile(join(root, 'tests/test.sh'), rewrite(await readFile(join(taskDir, 'tests/test.sh'), 'utf8')));
  for (const extra of ['expected'])
    await cp(join(taskDir, 'tests', extra), join(root, 'tests', extra), { recursive: true }).catch(() => undefined);
  const env = { PATH: `${root}/usr/local/bin:${process.env.PATH}`, HOME: root, TMPDIR: root };
  execFileSync('bash', [join(taskDir, 'solution/solve.sh')], { cwd: join(root, 'app'), env, stdio: 'ignore' });
  execFileSync('bash', [join(root, 'tests/test.sh')], { cwd: join(root, 'app'), env, stdio: 'ignore' });
  const reward = (await readFile(join(root, 'logs/verifier/reward.txt'), 'utf8')).trim();
  await rm(root, { recursive: true, force: true });
  if (reward !== '1') throw new Error(`bare floor: reward ${reward}`);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const task = await loadTaskOrThrow(taskDir);
  const provider = createLocalProvider();
  const prepared = await provider.prepare(task, { jobId: 'bench', forceBuild: false, log: () => undefined });
  const out = await mkdtemp(join(tmpdir(), 'bench-local-'));
  const ours: number[] = [];
  const bare: number[] = [];
  // One warm-up each, not counted.
  await bareTrial();
  for (let i = 0; i <= trials; i++) {
    const started = performance.now();
    const result = await runTrial(
      { jobId: 'bench', task, agent: agents.oracle, arm: 'with-skills', trialIndex: i + 1 },
      { provider, prepare: async () => prepared, trialDir: join(out, `t${i}`), env: {}, redactor: new Redactor([]) },
    );
    if (result.status !== 'passed')
      throw new Error(`skill-eval trial ${i}: ${result.status} ${result.error?.message ?? ''}`);
    if (i > 0) ours.push(performance.now() - started);
    if (i > 0) bare.push(await bareTrial());
  }
  await rm(out, { recursive: true, force: true });
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`local provider overhead, ${trials} trials of oracle on superlint_demo`);
  console.log(`  skill-eval lifecycle: median ${median(ours).toFixed(1)} ms, mean ${mean(ours).toFixed(1)} ms`);
  console.log(`  bare solve.sh+test.sh: median ${median(bare).toFixed(1)} ms, mean ${mean(bare).toFixed(1)} ms`);
  console.log(
    `  ratio (median): ${(median(ours) / median(bare)).toFixed(2)}x   ratio (mean): ${(mean(ours) / mean(bare)).toFixed(2)}x`,
  );
}

await main();
