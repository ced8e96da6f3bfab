/**
 * Job runner throughput: trivial trials (tests/fixtures/jobs/trivial: solve.sh and test.sh do almost nothing)
 * through runJob at concurrency 1, 2, 4, 8, against the raw floor measured in the same run, interleaved:
 *   local:  mkdtemp, spawn solve.sh, spawn test.sh, read the reward, rm — with the same concurrency; once with
 *           the trial directories in the system temp dir and once on a tmpfs (/dev/shm) when there is one;
 *   docker: dockerode create + start + 2 exec (the second also prints the reward) + rm of the same container
 *           (image, limits and network) a trial gets
 *           (skipped, and said so, when no engine answers).
 * Goal: ≥ 90 % of raw at concurrency 4. The last column is the whole machine's CPU time per trial (every
 * process, kernel included; from /proc/stat): where the floor is two bash starts, it shows what skill-eval's
 * own bookkeeping costs (a fresh trial root, config/result/session files, tests copied in, logs moved out).
 *
 * Docker trials cost ~0.3 s each at concurrency 4 (the whole Docker table takes ~9 min with the defaults); a run of
 * 50 keeps the engine's own run-to-run noise (±5–10 %) from deciding the ratio.
 *
 *   npx tsx bench/jobs/throughput.ts [trials=50, 0 skips local] [reps=3] [docker-trials=50, 0 skips Docker] [docker-reps=3]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import pLimit from 'p-limit';
import { agents } from '../../src/agents/registry.js';
import {
  DEFAULT_PIDS_LIMIT,
  planLimits,
  readEngineFacts,
  skipsNetworkSandbox,
} from '../../src/environments/docker/limits.js';
import { createDockerProvider, isRoot } from '../../src/environments/docker.js';
import { createLocalProvider, makePathRewriter } from '../../src/environments/local.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { ClaimBook } from '../../src/jobs/claims.js';
import { runJob } from '../../src/jobs/run-job.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { Redactor } from '../../src/util/secrets.js';

const LOCAL_TRIALS = Number(process.argv[2] ?? 50);
const LOCAL_REPS = Number(process.argv[3] ?? 3);
const DOCKER_TRIALS = Number(process.argv[4] ?? 50);
const DOCKER_REPS = Number(process.argv[5] ?? 3);
const CONCURRENCY = [1, 2, 4, 8];
const taskDir = resolve(import.meta.dirname, '../../tests/fixtures/jobs/trivial');

function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: 'ignore' });
    child.once('error', fail);
    child.once('exit', (code) => done(code ?? -1));
  });
}

/** The floor for one local trial: what any runner must do to run solve.sh and test.sh in a fresh directory. */
async function rawLocalTrial(task: Task, testScript: string, baseDir: string): Promise<void> {
  const root = await mkdtemp(join(baseDir, 'bench-raw-'));
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

/**
 * Where the local trials run: the system temp dir, and a tmpfs when there is one. A trivial skill-eval trial
 * creates ~20 files and directories (fresh root and skeleton, tests and solution, config/result/session/test
 * output files) where the floor creates 6; on a file system where creating one is costly (ext4 without a
 * journal scans the inodes deleted in the last minute or more on every allocation) the first row also
 * measures the file system. The tmpfs row shows the runner's own overhead.
 */
function localFileSystems(): Array<{ baseDir: string; label: string }> {
  const systemTmp = tmpdir();
  const systems = [{ baseDir: systemTmp, label: `trial dirs in ${systemTmp} (${fileSystemOf(systemTmp)})` }];
  const shm = '/dev/shm';
  if (fileSystemOf(shm) === 'tmpfs' && fileSystemOf(systemTmp) !== 'tmpfs') {
    const baseDir = join(shm, `skill-eval-bench-${process.pid}`);
    mkdirSync(baseDir, { recursive: true });
    process.once('exit', () => rmSync(baseDir, { recursive: true, force: true }));
    systems.push({ baseDir, label: `trial dirs in ${shm} (tmpfs)` });
  }
  return systems;
}

/** The file-system type of the mount holding `path` (Linux), or 'unknown'. */
function fileSystemOf(path: string): string {
  if (!existsSync('/proc/mounts') || !existsSync(path)) return 'unknown';
  let best = { mount: '', type: 'unknown' };
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mount, type] = line.split(' ');
    if (mount === undefined || type === undefined) continue;
    const within = path === mount || path.startsWith(mount === '/' ? '/' : `${mount}/`);
    if (within && mount.length >= best.mount.length) best = { mount, type };
  }
  return best.type;
}

/** Busy CPU time of the whole machine (every process, kernel included) in ms, from /proc/stat; undefined elsewhere. */
function machineBusyMs(): number | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const ticks = fields.reduce((sum, value) => sum + value, 0) - idle;
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

interface Measured {
  perSecond: number;
  /** Machine CPU time per trial (ms), when /proc/stat exists. */
  cpuMs?: number | undefined;
}

async function measured(trials: number, body: () => Promise<void>): Promise<Measured> {
  const busyBefore = machineBusyMs();
  const started = performance.now();
  await body();
  const perSecond = trials / ((performance.now() - started) / 1000);
  const busyAfter = machineBusyMs();
  return {
    perSecond,
    cpuMs: busyBefore !== undefined && busyAfter !== undefined ? (busyAfter - busyBefore) / trials : undefined,
  };
}

async function timeRaw(trials: number, concurrency: number, trial: () => Promise<void>): Promise<Measured> {
  const limit = pLimit(concurrency);
  return measured(trials, async () => {
    await Promise.all(Array.from({ length: trials }, () => limit(trial)));
  });
}

async function timeJob(
  task: Task,
  provider: EnvironmentProvider,
  trials: number,
  concurrency: number,
  label: string,
  baseDir = tmpdir(),
): Promise<Measured> {
  const jobDir = await mkdtemp(join(baseDir, `bench-job-${label}-`));
  let outcome: Awaited<ReturnType<typeof runJob>> | undefined;
  // Claims as eval takes them: what a job costs includes them.
  const claims = new ClaimBook(jobDir);
  claims.start('bench', concurrency);
  const result = await measured(trials, async () => {
    outcome = await runJob({
      claims,
      jobId: `bench-${label}-${concurrency}`,
      jobDir,
      tasks: [task],
      agents: [{ agent: agents.oracle }],
      arms: ['no-skills'],
      trials,
      provider,
      concurrency,
      env: {},
      redactor: new Redactor([]),
    });
  });
  claims.stop();
  const failed = outcome!.results.filter((r) => r.status !== 'passed');
  if (outcome!.results.length !== trials || failed.length > 0)
    throw new Error(
      `${label} job: ${failed.length} of ${outcome!.results.length} not passed: ${failed[0]?.error?.message ?? ''}`,
    );
  // Job directories are records: a user keeps them. Removing each one right after its run would also add its
  // files to the file system's recently-deleted inodes, which ext4 without a journal scans on every allocation
  // for a minute or more — a cost the next run (raw or skill-eval) would pay. They go when the bench ends.
  jobDirs.push(jobDir);
  return result;
}

const jobDirs: string[] = [];
process.once('exit', () => {
  for (const dir of jobDirs) rmSync(dir, { recursive: true, force: true });
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Raw and skill-eval alternate within each repetition so both see the same machine state. */
async function compare(
  title: string,
  trials: number,
  reps: number,
  raw: () => Promise<void>,
  job: (trials: number, concurrency: number) => Promise<Measured>,
): Promise<void> {
  console.log(`\n${title}: ${trials} trivial trials, ${reps === 1 ? 'one run' : `median of ${reps} runs`} each`);
  console.log(
    'concurrency | raw trials/s | skill-eval trials/s | skill-eval / raw | paired runs, min–max | machine CPU ms per trial, raw / skill-eval',
  );
  console.log(
    '------------|--------------|---------------------|------------------|----------------------|-------------------------------------------',
  );
  for (const concurrency of CONCURRENCY) {
    const raws: Measured[] = [];
    const ours: Measured[] = [];
    for (let rep = 0; rep < reps; rep++) {
      raws.push(await timeRaw(trials, concurrency, raw));
      ours.push(await job(trials, concurrency));
    }
    const r = median(raws.map((m) => m.perSecond));
    const o = median(ours.map((m) => m.perSecond));
    const cpu = (ms: Array<number | undefined>): string =>
      ms.every((x) => x !== undefined) ? median(ms as number[]).toFixed(1) : '–';
    const mark = concurrency === 4 ? (o / r >= 0.9 ? '  (goal ≥ 90 %: met)' : '  (goal ≥ 90 %: NOT met)') : '';
    // Each repetition's raw and skill-eval runs are back to back: their ratio shows how much the machine drifts.
    const paired = raws.map((raw, i) => ours[i]!.perSecond / raw.perSecond);
    const spread = `${(Math.min(...paired) * 100).toFixed(0)}–${(Math.max(...paired) * 100).toFixed(0)} %`;
    console.log(
      `${String(concurrency).padStart(11)} | ${r.toFixed(1).padStart(12)} | ${o.toFixed(1).padStart(19)} | ${`${((o / r) * 100).toFixed(0)} %`.padStart(16)} | ${spread.padStart(20)} | ${`${cpu(raws.map((m) => m.cpuMs))} / ${cpu(ours.map((m) => m.cpuMs))}`.padStart(41)}${mark}`,
    );
  }
}

async function dockerEngine(): Promise<Docker | undefined> {
  try {
    const { default: DockerClient } = await import('dockerode');
    const docker = new DockerClient();
    await docker.ping();
    return docker;
  } catch {
    return undefined;
  }
}

/** Runs `bash -c script`; its output as the engine sent it (multiplexed frames: search it, do not parse it). */
async function exec(container: Docker.Container, script: string): Promise<string> {
  const execution = await container.exec({ Cmd: ['bash', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await execution.start({});
  let output = '';
  stream.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  await new Promise((done) => stream.once('end', done));
  const { ExitCode } = await execution.inspect();
  if (ExitCode !== 0) throw new Error(`docker exec exited ${ExitCode}: ${script}`);
  return output;
}

async function main(): Promise<void> {
  const task = await loadTaskOrThrow(taskDir);
  const testScript = await readFile(join(task.paths.testsDir, 'test.sh'), 'utf8');
  const solveScript = await readFile(join(task.paths.solutionDir!, 'solve.sh'), 'utf8');
  if (LOCAL_TRIALS <= 0) console.log('\nlocal provider: skipped (trials is 0)');
  for (const { baseDir, label } of LOCAL_TRIALS > 0 ? localFileSystems() : []) {
    // Trial roots and the job directory on the same file system for both sides.
    const local = createLocalProvider({ baseDir });
    // Warm-up, not counted: module loading, first spawns, file-system caches.
    await rawLocalTrial(task, testScript, baseDir);
    await timeJob(task, local, 10, 2, 'warmup', baseDir);
    await compare(
      `local provider, ${label}`,
      LOCAL_TRIALS,
      LOCAL_REPS,
      () => rawLocalTrial(task, testScript, baseDir),
      (n, c) => timeJob(task, local, n, c, 'local', baseDir),
    );
  }

  if (DOCKER_TRIALS <= 0) {
    console.log('\ndocker provider: skipped (docker-trials is 0)');
    return;
  }
  const docker = await dockerEngine();
  if (!docker) {
    console.log('\ndocker provider: skipped (no Docker engine answers: `docker info` fails)');
    return;
  }
  let provider: EnvironmentProvider;
  try {
    provider = createDockerProvider({ docker });
    await provider.preflight();
  } catch (error) {
    console.log(`\ndocker provider: skipped (${(error as Error).message})`);
    return;
  }
  const prepared = await provider.prepare(task, { jobId: 'bench', forceBuild: false, log: () => undefined });
  const { imageId: image, imageUser } = prepared.handle as { imageId: string; imageUser: string };
  // The same container as a trial's: same image, same limits and network (as in bench/docker/overhead.ts).
  const { hostConfig } = planLimits(task.config.environment, await readEngineFacts(docker), {
    pidsLimit: DEFAULT_PIDS_LIMIT,
    storageRefused: false,
  });
  const network = skipsNetworkSandbox(hostConfig, isRoot(imageUser)) ? { NetworkDisabled: true } : {};
  const rawDockerTrial = async (): Promise<void> => {
    const container = await docker.createContainer({
      Image: image,
      Cmd: ['sleep', 'infinity'],
      WorkingDir: '/app',
      Labels: { 'skill-eval': '1', 'skill-eval.bench': '1' },
      HostConfig: hostConfig,
      ...network,
    });
    try {
      await container.start();
      await exec(container, solveScript);
      // As the local floor does, and any runner must: the reward comes out (with the verifier's exec, bash builtins only).
      const output = await exec(container, `${testScript}\nread -r r < /logs/verifier/reward.txt; echo "reward=$r"`);
      if (!output.includes('reward=1\n')) throw new Error(`raw docker trial: no reward 1 in ${JSON.stringify(output)}`);
    } finally {
      await container.remove({ force: true });
    }
  };
  await rawDockerTrial();
  await timeJob(task, provider, 2, 2, 'docker-warmup');
  await compare('docker provider', DOCKER_TRIALS, DOCKER_REPS, rawDockerTrial, (n, c) =>
    timeJob(task, provider, n, c, 'docker'),
  );
}

await main();
