import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { cleanupLocal } from '../../src/environments/local-cleanup.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';

function pgrep(marker: string): string {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** A skill-eval run in a child process, its one trial's command (`marker` as its name) running until killed. */
async function startLiveRun(baseDir: string, marker: string, jobId = 'j'): Promise<ChildProcess> {
  const script = `
    import { createLocalProvider } from './src/environments/local.js';
    import { loadTaskOrThrow } from './src/task/load.js';
    const provider = createLocalProvider({ baseDir: ${JSON.stringify(baseDir)}, sandbox: 'off' });
    const task = await loadTaskOrThrow('tests/fixtures/check/healthy');
    const ws = await provider.createWorkspace(await provider.prepare(task, { jobId: ${JSON.stringify(jobId)}, forceBuild: false, log: () => {} }), { jobId: ${JSON.stringify(jobId)}, trialId: 't', trialName: 'live' });
    void ws.exec('exec -a ${marker} sleep 300');
    setTimeout(() => console.log('ready'), 300);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  return child;
}

describe('local cleanup after a crash', () => {
  // Unsandboxed (the fallback): a sandboxed trial's processes die with skill-eval (local-sandbox.test.ts).
  it('kills the processes and removes the trial roots of a run that was killed with SIGKILL', async () => {
    const baseDir = await tempDir('local-crash');
    const marker = `skill-eval-crash-marker-${process.pid}`;
    const child = await startLiveRun(baseDir, marker);
    expect(pgrep(marker)).not.toBe('');
    // A live run's trial directory and processes are kept, and listed with their owner.
    const live = await cleanupLocal({ baseDir });
    expect(live).toMatchObject({ processesKilled: 0, directoriesRemoved: 0 });
    const [root] = await readdir(baseDir);
    expect(live.kept).toContainEqual({ kind: 'trial directory', name: join(baseDir, root!), owner: child.pid });
    expect(live.kept.filter((kept) => kept.kind === 'process').length).toBeGreaterThanOrEqual(1);
    expect(live.kept.every((kept) => kept.owner === child.pid)).toBe(true);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(pgrep(marker)).not.toBe(''); // the crash orphaned it
    expect((await readdir(baseDir)).length).toBe(1);

    const report = await cleanupLocal({ baseDir });
    expect(report.processesKilled).toBeGreaterThanOrEqual(1);
    expect(report.directoriesRemoved).toBe(1);
    await delay(100);
    expect(pgrep(marker)).toBe('');
    expect(await readdir(baseDir)).toEqual([]);
  });

  it('with force, also stops the trials of a run that still goes', async () => {
    const baseDir = await tempDir('local-force');
    const marker = `skill-eval-force-marker-${process.pid}`;
    const child = await startLiveRun(baseDir, marker);
    try {
      expect(pgrep(`^${marker}`)).not.toBe('');
      const report = await cleanupLocal({ baseDir, force: true });
      expect(report).toMatchObject({ directoriesRemoved: 1, kept: [] });
      expect(report.processesKilled).toBeGreaterThanOrEqual(1);
      await delay(100);
      // The live run's own command line holds the marker too: only the trial's process starts with it.
      expect(pgrep(`^${marker}`)).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("with a job and force, stops that job's trials and leaves another job's running", async () => {
    const baseDir = await tempDir('local-force-job');
    const mine = `skill-eval-job-mine-${process.pid}`;
    const theirs = `skill-eval-job-theirs-${process.pid}`;
    const children = [await startLiveRun(baseDir, mine, 'job-a'), await startLiveRun(baseDir, theirs, 'job-b')];
    try {
      const report = await cleanupLocal({ baseDir, force: true, jobId: 'job-a' });
      expect(report.directoriesRemoved).toBe(1);
      await delay(100);
      expect(pgrep(`^${mine}`)).toBe('');
      expect(pgrep(`^${theirs}`)).not.toBe('');
      const [left] = await readdir(baseDir);
      expect(left).toMatch(new RegExp(`^skill-eval-${children[1]!.pid}-`));
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  });
});
