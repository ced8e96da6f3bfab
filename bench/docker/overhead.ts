/**
 * Docker-provider overhead per trial, measured in one run, interleaved so both see the same machine state:
 *   floor  — straight against the engine API (dockerode): create + start + 2 exec + rm
 *   ours   — createWorkspace + 2 workspace.exec + dispose
 * on the same image with the same limits and network (superlint_demo's image: allow_internet = false, so no
 * network sandbox, see skipsNetworkSandbox). A third series, the floor with the engine's network sandbox
 * (`NetworkMode: none` alone, what offline containers got before), shows what skipping it saves. Then a second prepare of the unchanged
 * task, with a fresh provider, must do zero builds (only an image inspect).
 *
 *   npx tsx bench/docker/overhead.ts [trials=20]
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import Docker from 'dockerode';
import { cleanupDocker } from '../../src/environments/cleanup.js';
import {
  DEFAULT_PIDS_LIMIT,
  planLimits,
  readEngineFacts,
  skipsNetworkSandbox,
} from '../../src/environments/docker/limits.js';
import { createDockerProvider, isRoot } from '../../src/environments/docker.js';
import { loadTaskOrThrow } from '../../src/task/load.js';

const trials = Number(process.argv[2] ?? 20);
const taskDir = resolve(import.meta.dirname, '../../tasks/superlint_demo');
const JOB = `bench-${randomBytes(3).toString('hex')}`;
const COMMANDS = ['echo hello', 'cat /etc/hostname >/dev/null; ls /app | wc -l'];

/** The floor's exec: create, start, read both streams to the end, inspect the exit code. */
async function rawExec(docker: Docker, container: Docker.Container, command: string): Promise<number | null> {
  const exec = await container.exec({ Cmd: ['bash', '-c', command], AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ Detach: false, Tty: false })) as Readable;
  docker.modem.demuxStream(stream, discard(), discard());
  await new Promise<void>((done) => {
    stream.once('end', done);
    stream.once('close', done);
  });
  return (await exec.inspect()).ExitCode;
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

async function main(): Promise<void> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch {
    console.log('docker overhead: no Docker engine answers (bash scripts/setup/docker.sh); skipped');
    return;
  }
  const task = await loadTaskOrThrow(taskDir);
  const provider = createDockerProvider();
  const firstStarted = performance.now();
  const prepared = await provider.prepare(task, { jobId: JOB, forceBuild: false, log: () => undefined });
  const firstMs = performance.now() - firstStarted;
  const handle = prepared.handle;
  const facts = await readEngineFacts(docker);
  const { hostConfig } = planLimits(task.config.environment, facts, {
    pidsLimit: DEFAULT_PIDS_LIMIT,
    storageRefused: false,
  });

  const noSandbox = skipsNetworkSandbox(hostConfig, isRoot(handle.imageUser));

  const floorTrial = async (networkDisabled = noSandbox): Promise<number> => {
    const started = performance.now();
    const container = await docker.createContainer({
      Image: handle.imageId,
      Cmd: ['sleep', 'infinity'],
      Labels: { 'skill-eval': '1', 'skill-eval.job': JOB },
      HostConfig: hostConfig,
      ...(networkDisabled ? { NetworkDisabled: true } : {}),
    });
    await container.start();
    for (const command of COMMANDS) {
      const code = await rawExec(docker, container, command);
      if (code !== 0) throw new Error(`floor exec exited ${code}`);
    }
    await container.remove({ force: true });
    return performance.now() - started;
  };
  const oursTrial = async (index: number): Promise<number> => {
    const started = performance.now();
    const ws = await provider.createWorkspace(prepared, {
      jobId: JOB,
      trialId: `t${index}-${randomBytes(3).toString('hex')}`,
      trialName: `bench-${index}`,
    });
    for (const command of COMMANDS) {
      const result = await ws.exec(command);
      if (result.exitCode !== 0) throw new Error(`provider exec exited ${result.exitCode}: ${result.stderr}`);
    }
    await ws.dispose();
    return performance.now() - started;
  };

  const floor: number[] = [];
  const ours: number[] = [];
  const sandboxed: number[] = [];
  try {
    // One warm-up each, not counted; then alternate which goes first.
    await floorTrial();
    await oursTrial(0);
    for (let i = 1; i <= trials; i++) {
      if (i % 2 === 0) {
        floor.push(await floorTrial());
        ours.push(await oursTrial(i));
      } else {
        ours.push(await oursTrial(i));
        floor.push(await floorTrial());
      }
      if (noSandbox) sandboxed.push(await floorTrial(false));
    }
  } finally {
    await cleanupDocker({ jobId: JOB });
  }

  // A second prepare of the unchanged task, by a fresh provider (a new job): an image inspect, no build.
  let builds = 0;
  const againStarted = performance.now();
  const again = await createDockerProvider().prepare(task, {
    jobId: `${JOB}-2`,
    forceBuild: false,
    log: (line) => void (/^Step \d+/.test(line) && builds++),
  });
  const againMs = performance.now() - againStarted;

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `docker provider overhead, ${trials} trials on ${handle.image} (engine ${facts.serverVersion}, ${facts.storageDriver})`,
  );
  console.log(
    `  floor (dockerode create+start+2 exec+rm): median ${median(floor).toFixed(1)} ms, mean ${mean(floor).toFixed(1)} ms`,
  );
  console.log(
    `  skill-eval (createWorkspace+2 exec+dispose): median ${median(ours).toFixed(1)} ms, mean ${mean(ours).toFixed(1)} ms`,
  );
  console.log(
    `  ratio (median): ${(median(ours) / median(floor)).toFixed(2)}x   ratio (mean): ${(mean(ours) / mean(floor)).toFixed(2)}x   (goal <= 1.2x)`,
  );
  if (sandboxed.length > 0) {
    console.log(
      `  floor with the engine's network sandbox (NetworkMode none alone): median ${median(sandboxed).toFixed(1)} ms, mean ${mean(sandboxed).toFixed(1)} ms`,
    );
    console.log(
      `  skipping the sandbox: skill-eval ${(median(sandboxed) / median(ours)).toFixed(2)}x faster than the sandboxed floor (median)`,
    );
  } else {
    console.log(
      `  network: ${hostConfig.NetworkMode ?? 'default'} with the engine's sandbox (no sandbox-free comparison)`,
    );
  }
  console.log(`  first prepare this run: ${firstMs.toFixed(0)} ms, built=${prepared.built}`);
  console.log(
    `  second prepare (fresh provider, unchanged task): ${againMs.toFixed(0)} ms, built=${again.built}, build steps=${builds}`,
  );
}

await main();
