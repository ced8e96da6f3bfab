/** Whose resources cleanup may remove: owner pid and host, checked without an engine (a fake one lists labels). */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { cleanupDocker, reclaimDockerJob } from '../../src/environments/cleanup.js';
import { currentOwner, ownerState } from '../../src/environments/owner.js';

/** The pid of a process that has exited (pids are not reused this soon). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

interface FakeContainer {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
}

/** Just what cleanupDocker asks of dockerode; records what it removes. */
function fakeEngine(containers: FakeContainer[]): { docker: Docker; removed: string[] } {
  const removed: string[] = [];
  const docker = {
    ping: async () => 'OK',
    listContainers: async () => containers,
    getContainer: (id: string) => ({ remove: async () => void removed.push(id) }),
    listNetworks: async () => [],
    listVolumes: async () => ({ Volumes: [] }),
  } as unknown as Docker;
  return { docker, removed };
}

function container(id: string, owner: { pid?: number; host?: string }): FakeContainer {
  const Labels: Record<string, string> = { 'skill-eval': '1', 'skill-eval.job': 'job-1' };
  if (owner.pid !== undefined) Labels['skill-eval.owner-pid'] = String(owner.pid);
  if (owner.host !== undefined) Labels['skill-eval.owner-host'] = owner.host;
  return { Id: id, Names: [`/skill-eval-job-1-${id}`], Labels };
}

describe('ownerState', () => {
  it('tells a live owner, a dead one, one on another host and a missing one apart', () => {
    const self = currentOwner();
    expect(self).toEqual({ pid: process.pid, host: hostname() });
    expect(ownerState(self)).toBe('alive');
    expect(ownerState({ pid: deadPid(), host: self.host })).toBe('dead');
    expect(ownerState({ pid: process.pid, host: `not-${self.host}` })).toBe('elsewhere');
    expect(ownerState({})).toBe('unknown');
    expect(ownerState({ pid: Number.NaN, host: self.host })).toBe('unknown');
    // Older versions recorded only the pid: taken as this host's.
    expect(ownerState({ pid: process.pid })).toBe('alive');
  });
});

describe('cleanupDocker and owners', () => {
  const live = () => container('live', { pid: process.pid, host: hostname() });
  const remote = () => container('remote', { pid: process.pid, host: `not-${hostname()}` });
  const dead = () => container('dead', { pid: deadPid(), host: hostname() });
  const unlabelled = () => container('old', {});

  it("keeps a live owner's and another host's containers, saying why, and removes dead and unowned ones", async () => {
    const { docker, removed } = fakeEngine([live(), remote(), dead(), unlabelled()]);
    const result = await cleanupDocker({ docker });
    expect(removed.sort()).toEqual(['dead', 'old']);
    expect(result.containers).toBe(2);
    expect(result.kept).toEqual([
      {
        kind: 'container',
        name: 'skill-eval-job-1-live',
        job: 'job-1',
        reason: `its owner, skill-eval process ${process.pid}, is still running`,
      },
      {
        kind: 'container',
        name: 'skill-eval-job-1-remote',
        job: 'job-1',
        reason: expect.stringContaining(`runs on another host and cannot be checked from here`),
      },
    ]);
  });

  it('removes everything with force', async () => {
    const { docker, removed } = fakeEngine([live(), remote(), dead()]);
    const result = await cleanupDocker({ docker, force: true });
    expect(removed.sort()).toEqual(['dead', 'live', 'remote']);
    expect(result.kept).toEqual([]);
  });

  it("reclaiming a job removes its dead runs' containers and reports the live ones it kept", async () => {
    const { docker, removed } = fakeEngine([live(), dead()]);
    const report = await reclaimDockerJob('job-1', docker);
    expect(removed).toEqual(['dead']);
    expect(report).toEqual({
      removed: 1,
      notes: [`kept container skill-eval-job-1-live: its owner, skill-eval process ${process.pid}, is still running`],
    });
  });
});
