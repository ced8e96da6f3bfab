/** Nothing leaks: `cleanupDocker`, the `cleanup` command, and a skill-eval process killed mid-exec. Real engine. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cleanupDocker } from '../../src/environments/cleanup.js';
import { BASE_IMAGE, engineGate, makeTask, uniqueId } from './docker-engine.js';

const run = await engineGate('the Docker cleanup tests (tests/environments/docker-cleanup.test.ts)');
const docker = new Docker();
const CHILD = join(import.meta.dirname, 'docker-child.fixture.ts');
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
    for (const jobId of jobs) await cleanupDocker({ jobId });
  });

  it('removes labelled containers, networks and volumes of one job, and only that job', async () => {
    const mine = newJob();
    const other = newJob();
    await leftovers(mine);
    await leftovers(other);
    const result = await cleanupDocker({ jobId: mine });
    expect(result).toEqual({ containers: 1, networks: 1, volumes: 1, errors: [] });
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
      docker: { containers: 1, networks: 1, volumes: 1, errors: [] },
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
