/**
 * Nothing leaks: `cleanupDocker`, the `cleanup` command, a skill-eval process killed mid-exec, and a resumed job
 * after a SIGKILL; nothing of a live run is removed without --force. Real engine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cleanupDocker } from '../../src/environments/cleanup.js';
import { BASE_IMAGE, engineGate, makeTask, uniqueId } from './docker-engine.js';

const run = await engineGate('the Docker cleanup tests (tests/environments/docker-cleanup.test.ts)');
const docker = new Docker();
const CHILD = join(import.meta.dirname, 'docker-child.fixture.ts');
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const jobs: string[] = [];

function newJob(): string {
  const id = uniqueId('test-cleanup');
  jobs.push(id);
  return id;
}

async function jobContainers(jobId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`skill-eval.job=${jobId}`] }) });
}

/** A labelled container, network and volume, as a killed run would leave them. */
async function leftovers(jobId: string): Promise<void> {
  const Labels = { 'skill-eval': '1', 'skill-eval.job': jobId };
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ['sleep', 'infinity'],
    Labels,
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  await docker.createNetwork({ Name: `${jobId}-net`, Labels });
  await docker.createVolume({ Name: `${jobId}-vol`, Labels });
}

function startChild(jobId: string, taskDir: string, mode: string): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, jobId, taskDir, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /READY (\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
  return { child, ready };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe.runIf(run)('docker cleanup (real engine)', () => {
  afterAll(async () => {
    for (const jobId of jobs) await cleanupDocker({ jobId, force: true });
  });

  it('removes labelled containers, networks and volumes of one job, and only that job', async () => {
    const mine = newJob();
    const other = newJob();
    await leftovers(mine);
    await leftovers(other);
    const result = await cleanupDocker({ jobId: mine });
    expect(result).toEqual({ containers: 1, networks: 1, volumes: 1, kept: [], errors: [] });
    expect(await jobContainers(mine)).toHaveLength(0);
    expect(await docker.listNetworks({ filters: JSON.stringify({ label: [`skill-eval.job=${mine}`] }) })).toHaveLength(
      0,
    );
    expect(await jobContainers(other)).toHaveLength(1);
    expect((await cleanupDocker({ jobId: other })).containers).toBe(1);
    expect(await jobContainers(other)).toHaveLength(0);
  });

  it('`skill-eval cleanup --job ID --json` reports what it removed', async () => {
    const jobId = newJob();
    await leftovers(jobId);
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((text: unknown) => void printed.push(String(text)));
    let code: number;
    try {
      code = await main(['node', 'skill-eval', 'cleanup', '--job', jobId, '--json']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect(JSON.parse(printed.join('\n'))).toMatchObject({
      job: jobId,
      docker: { containers: 1, networks: 1, volumes: 1, kept: [], errors: [] },
    });
    expect(await jobContainers(jobId)).toHaveLength(0);
  });

  it('after a skill-eval process is SIGKILLed mid-exec, cleanup leaves zero skill-eval containers of its job', async () => {
    const jobId = newJob();
    const task = await makeTask(
      uniqueId('child'),
      {},
      `schema_version = "1.1"\n[environment]\ndocker_image = "${BASE_IMAGE}"\n`,
    );
    const { child, ready } = startChild(jobId, task.dir, 'hang');
    await ready;
    child.kill('SIGKILL');
    await exited(child);
    // SIGKILL cannot be caught: the container is still there…
    expect((await jobContainers(jobId)).map((c) => c.State)).toEqual(['running']);
    // …until cleanup.
    const result = await cleanupDocker({ jobId });
    expect(result.containers).toBe(1);
    expect(await jobContainers(jobId)).toHaveLength(0);
  });

  it('installSignalCleanup removes the live containers on SIGTERM and exits 143', async () => {
    const jobId = newJob();
    const task = await makeTask(
      uniqueId('child'),
      {},
      `schema_version = "1.1"\n[environment]\ndocker_image = "${BASE_IMAGE}"\n`,
    );
    const { child, ready } = startChild(jobId, task.dir, 'signal');
    await ready;
    expect(await jobContainers(jobId)).toHaveLength(1);
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 143, signal: null });
    expect(await jobContainers(jobId)).toHaveLength(0);
  });
});

/** Runs the real CLI in-process, capturing what it prints on stdout. */
async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((text: unknown) => void printed.push(String(text)));
  try {
    return { code: await main(['node', 'skill-eval', ...args]), stdout: printed.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

/** Waits for the first container of the job to run (a trial started); a poll, not a timed assertion. */
async function runningContainerOf(jobId: string): Promise<Docker.ContainerInfo> {
  for (;;) {
    const running = (await jobContainers(jobId)).find((c) => c.State === 'running');
    if (running) return running;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The real CLI (`eval`) in a child process, as a user runs it; resolves `seen` once its stderr contains `text`. */
function startEval(args: string[], text: string): { child: ChildProcess; seen: Promise<void>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'eval', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', CI: 'true' },
  });
  let output = '';
  const seen = new Promise<void>((resolve, reject) => {
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(text)) resolve();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`eval exited (${code}) before printing ${text}:\n${output}`)));
  });
  return { child, seen, output: () => output };
}

describe.runIf(run)('docker cleanup and live owners (real engine)', () => {
  afterAll(async () => {
    for (const jobId of jobs) await cleanupDocker({ jobId, force: true });
  });

  it("`cleanup` without --job keeps a running job's container and says why; --force removes it", async () => {
    const jobId = newJob();
    const task = await makeTask(
      uniqueId('child'),
      {},
      `schema_version = "1.1"\n[environment]\ndocker_image = "${BASE_IMAGE}"\n`,
    );
    const { child, ready } = startChild(jobId, task.dir, 'hang');
    try {
      const name = await ready;
      const kept = await cli(['cleanup', '--json']);
      expect(kept.code).toBe(0);
      const report = JSON.parse(kept.stdout);
      expect(report.docker.kept).toContainEqual({
        kind: 'container',
        name,
        job: jobId,
        reason: `its owner, skill-eval process ${child.pid}, is still running`,
      });
      expect((await jobContainers(jobId)).map((c) => c.State)).toEqual(['running']);

      const text = await cli(['cleanup', '--job', jobId]);
      expect(text.stdout).toContain(`docker: kept container ${name} (job ${jobId}): its owner, skill-eval process`);
      expect(text.stdout).toContain('--force removes what was kept');
      expect(await jobContainers(jobId)).toHaveLength(1);

      const forced = await cli(['cleanup', '--job', jobId, '--force', '--json']);
      expect(JSON.parse(forced.stdout).docker).toMatchObject({ containers: 1, kept: [] });
      expect(await jobContainers(jobId)).toHaveLength(0);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it("a job resumed after a SIGKILL first removes the killed run's container, then runs", async () => {
    const jobId = newJob();
    const task = await makeTask(
      uniqueId('resume'),
      { 'solution/solve.sh': { content: '#!/bin/bash\nsleep 300\n', mode: 0o755 } },
      `schema_version = "1.1"\n[environment]\ndocker_image = "${BASE_IMAGE}"\n`,
    );
    const results = await mkdtemp(join(tmpdir(), 'skill-eval-resume-'));
    const args = [task.dir, '--agent', 'oracle', '--provider', 'docker', '--trials', '1', '--job-name', jobId];
    args.push('--results-dir', results);

    const first = startEval(args, 'never printed');
    first.seen.catch(() => undefined);
    const killedRuns = await runningContainerOf(jobId);
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect((await jobContainers(jobId)).map((c) => c.Id)).toEqual([killedRuns.Id]);

    const second = startEval(args, `removed 1 leftover of earlier, dead runs of job ${jobId} (docker)`);
    try {
      await second.seen;
      expect(second.output()).toContain(`resuming job ${jobId}`);
      const after = await runningContainerOf(jobId);
      expect(after.Id).not.toBe(killedRuns.Id);
      expect((await jobContainers(jobId)).map((c) => c.Id)).not.toContain(killedRuns.Id);
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  });
});
