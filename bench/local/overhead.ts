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
  const unaudited: number[] = [];
  const bare: number[] = [];
  const lifecycle = async (i: number, audit: boolean): Promise<number> => {
    const started = performance.now();
    const result = await runTrial(
      { jobId: 'bench', task, agent: agents.oracle, arm: 'with-skills', trialIndex: i + 1 },
      {
        provider,
        prepare: async () => prepared,
        trialDir: join(out, `t${i}-${audit}`),
        env: {},
        redactor: new Redactor([]),
        audit,
      },
    );
    if (result.status !== 'passed')
      throw new Error(`skill-eval trial ${i}: ${result.status} ${result.error?.message ?? ''}`);
    return performance.now() - started;
  };
  // One warm-up each, not counted; then the three interleaved, so all see the same machine state.
  await bareTrial();
  for (let i = 0; i <= trials; i++) {
    const audited = await lifecycle(i, true);
    const plain = await lifecycle(i, false);
    const floor = await bareTrial();
    if (i === 0) continue;
    ours.push(audited);
    unaudited.push(plain);
    bare.push(floor);
  }
  await rm(out, { recursive: true, force: true });
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const line = (name: string, xs: number[]): string =>
    `  ${name}: median ${median(xs).toFixed(1)} ms, mean ${mean(xs).toFixed(1)} ms, ratio to bare ${(median(xs) / median(bare)).toFixed(2)}x (median) ${(mean(xs) / mean(bare)).toFixed(2)}x (mean)`;
  console.log(`local provider overhead, ${trials} trials of oracle on superlint_demo`);
  console.log(line('skill-eval lifecycle (audits on, the default)', ours));
  console.log(line('skill-eval lifecycle --no-audit', unaudited));
  console.log(`  bare solve.sh+test.sh: median ${median(bare).toFixed(1)} ms, mean ${mean(bare).toFixed(1)} ms`);
}

await main();
