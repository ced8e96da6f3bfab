/**
 * Many workers on one job (docs/scale.md):
 *   1. claim overhead: take + release a trial's claim (exclusive link, rename) on the local file system, per trial;
 *   2. throughput of 1, 2 and 4 `skill-eval worker` processes on one job (local provider, trivial trials:
 *      tests/fixtures/jobs/trivial) against one `eval` process with the same total concurrency — goal ≥ 0.9,
 *      end to end (process start-up included) and over the trials' own span (first start to last finish);
 *   3. a kill -9 of one of four workers mid-job: nothing lost, and how long its trial waited to be taken over.
 *
 *   npx tsx bench/workers/run.ts [trials=48] [concurrency=4] [claims=2000]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CLAIMS_DIR, ClaimBook, currentClaim } from '../../src/jobs/claims.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TRIALS = Number(process.argv[2] ?? 48);
const CONCURRENCY = Number(process.argv[3] ?? 4);
const CLAIMS = Number(process.argv[4] ?? 2000);
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'jobs');

interface Exit {
  code: number | null;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { pid: number; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { pid: child.pid!, exited };
}

async function must(run: Promise<Exit>, what: string): Promise<void> {
  const { code, stderr } = await run;
  if (code !== 0) throw new Error(`${what} exited ${code}:\n${stderr}`);
}

function evalArgs(resultsDir: string, task: string, job: string, trials: number, ...extra: string[]): string[] {
  return [
    'eval',
    join(FIXTURES, task),
    '--agent=oracle',
    '--provider=local',
    '--no-skills',
    `--trials=${trials}`,
    `--job-name=${job}`,
    '--results-dir',
    resultsDir,
    '--quiet',
    ...extra,
  ];
}

/** First trial start to last trial end, from the results. */
async function trialSpanMs(jobDir: string): Promise<{ spanMs: number; passed: number }> {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let passed = 0;
  for (const entry of await readdir(jobDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === CLAIMS_DIR) continue;
    const result = JSON.parse(await readFile(join(jobDir, entry.name, 'result.json'), 'utf8'));
    first = Math.min(first, Date.parse(result.timings.started_at));
    last = Math.max(last, Date.parse(result.timings.finished_at));
    if (result.status === 'passed') passed += 1;
  }
  return { spanMs: last - first, passed };
}

async function claimOverhead(): Promise<void> {
  const jobDir = await mkdtemp(join(tmpdir(), 'bench-claims-'));
  const book = new ClaimBook(jobDir);
  const started = performance.now();
  for (let i = 0; i < CLAIMS; i++) {
    const { held } = book.tryClaim(`task__oracle__no-skills__${i}`);
    if (!held) throw new Error('a fresh claim was refused');
    book.release(held, 'done');
  }
  const perTrial = (performance.now() - started) / CLAIMS;
  // A trial whose claim is taken before and released after: the same again for a trial that ran before.
  const again = performance.now();
  for (let i = 0; i < CLAIMS; i++) book.release(book.tryClaim(`task__oracle__no-skills__${i}`).held!, 'done');
  const perRetake = (performance.now() - again) / CLAIMS;
  console.log(
    `claim + release per trial (${CLAIMS} trials, ${tmpdir()}): ${(perTrial * 1000).toFixed(0)} µs fresh, ${(perRetake * 1000).toFixed(0)} µs for a trial claimed before`,
  );
  await rm(jobDir, { recursive: true, force: true });
}

interface Run {
  label: string;
  wallMs: number;
  spanMs: number;
}

async function timeWorkers(resultsDir: string, workers: number): Promise<Run> {
  const job = `w${workers}`;
  await must(cli(evalArgs(resultsDir, 'trivial', job, TRIALS, '--plan-only')).exited, 'eval --plan-only');
  const jobDir = join(resultsDir, 'jobs', job);
  const per = CONCURRENCY / workers;
  const started = performance.now();
  const runs = Array.from({ length: workers }, () => cli(['worker', jobDir, `--concurrency=${per}`, '--quiet']).exited);
  for (const run of runs) await must(run, 'worker');
  const wallMs = performance.now() - started;
  const { spanMs, passed } = await trialSpanMs(jobDir);
  if (passed !== TRIALS) throw new Error(`${workers} workers: ${passed} of ${TRIALS} passed`);
  return { label: `${workers} worker${workers > 1 ? 's' : ''} × ${per}`, wallMs, spanMs };
}

async function timeOneEval(resultsDir: string): Promise<Run> {
  const started = performance.now();
  await must(cli(evalArgs(resultsDir, 'trivial', 'eval', TRIALS, `--concurrency=${CONCURRENCY}`)).exited, 'eval');
  const wallMs = performance.now() - started;
  const { spanMs, passed } = await trialSpanMs(join(resultsDir, 'jobs', 'eval'));
  if (passed !== TRIALS) throw new Error(`eval: ${passed} of ${TRIALS} passed`);
  return { label: `1 eval × ${CONCURRENCY}`, wallMs, spanMs };
}

async function throughput(): Promise<void> {
  const resultsDir = await mkdtemp(join(tmpdir(), 'bench-workers-'));
  const baseline = await timeOneEval(resultsDir);
  const runs = [baseline];
  for (const workers of [1, 2, 4].filter((n) => CONCURRENCY % n === 0))
    runs.push(await timeWorkers(resultsDir, workers));
  console.log(
    `\n${TRIALS} trivial trials, local provider, total concurrency ${CONCURRENCY}; ratio = throughput ÷ one eval's`,
  );
  console.log('processes        | end to end | ratio | trials span | ratio');
  for (const run of runs) {
    const e2e = TRIALS / (run.wallMs / 1000);
    const span = TRIALS / (run.spanMs / 1000);
    console.log(
      `${run.label.padEnd(16)} | ${e2e.toFixed(2).padStart(5)} /s   | ${(baseline.wallMs / run.wallMs).toFixed(2)}  | ${span.toFixed(2).padStart(6)} /s   | ${(baseline.spanMs / run.spanMs).toFixed(2)}`,
    );
  }
  await rm(resultsDir, { recursive: true, force: true });
}

async function killOne(): Promise<void> {
  const resultsDir = await mkdtemp(join(tmpdir(), 'bench-workers-kill-'));
  const trials = 16;
  const env = { FIXTURE_SLEEP_SEC: '1' };
  const args = evalArgs(resultsDir, 'quick-a', 'kill', trials, '--plan-only', '--env=FIXTURE_SLEEP_SEC');
  await must(cli(args, env).exited, 'eval --plan-only');
  const jobDir = join(resultsDir, 'jobs', 'kill');
  const workers = Array.from({ length: 4 }, () => cli(['worker', jobDir, '--concurrency=1'], env));
  const victim = workers[0]!;
  // Its first trial running (a claim of its own, not yet done): kill it there.
  let victimTrial: string | undefined;
  while (victimTrial === undefined) {
    await delay(100);
    const names = existsSync(join(jobDir, CLAIMS_DIR)) ? await readdir(join(jobDir, CLAIMS_DIR)) : [];
    victimTrial = names.find((name) => {
      const record = currentClaim(jobDir, name).record;
      return record?.state === 'running' && record.owner.pid === victim.pid;
    });
  }
  process.kill(victim.pid, 'SIGKILL');
  const killedAt = Date.now();
  await victim.exited;
  for (const worker of workers.slice(1)) await must(worker.exited, 'surviving worker');
  const { passed } = await trialSpanMs(jobDir);
  const taken = currentClaim(jobDir, victimTrial).record!;
  const pickedUpMs = Date.parse(taken.started_at) - killedAt;
  console.log(
    `\nkill -9 of 1 of 4 workers mid-job (${trials} trials of ~1 s): ${passed}/${trials} passed, ${trials - passed} lost; its trial ${victimTrial} was taken over (generation ${taken.generation}) ${(pickedUpMs / 1000).toFixed(1)} s after the kill (same host: a dead pid is stale at once; another host's claim waits out --stale-claim-timeout, 60 s by default)`,
  );
  await rm(resultsDir, { recursive: true, force: true });
}

await claimOverhead();
await throughput();
await killOne();
