import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runInProcessGroup } from '../../src/util/process-group.js';
import { helperLauncher } from '../../src/environments/spawner.js';
import { InfraError } from '../../src/errors.js';
import { tempDir } from '../helpers/trials.js';

/** Direct children of this process whose command line says they are the spawn helper. */
function helperPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('--max-old-space-size=64') && cmdline.includes('-e'))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Processes of a group that still run (zombies waiting for a reaper do not count). */
function runningInGroup(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

const run = async (command: string, extra: Partial<Parameters<typeof runInProcessGroup>[1]> = {}) => {
  const cwd = await tempDir('spawner');
  return runInProcessGroup(command, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, GREETING: 'hi' },
    killGraceMs: 500,
    launcher: helperLauncher(),
    ...extra,
  });
};

describe('spawn helper (local provider)', () => {
  it('runs commands in the helper, not as children of this process: output, stdin, env, cwd and exit code arrive intact', async () => {
    const chunks: string[] = [];
    let group: number | undefined;
    const result = await run('echo "$GREETING"; cat; pwd; echo oops >&2; echo $PPID; exit 7', {
      stdin: 'from stdin\n',
      onStdout: (chunk) => chunks.push(chunk),
      onGroup: (pgid) => (group = pgid),
    });
    expect(result.exitCode).toBe(7);
    const lines = result.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['hi', 'from stdin']);
    expect(lines[2]).toMatch(/spawner/);
    expect(result.stderr).toBe('oops\n');
    expect(chunks.join('')).toBe(result.stdout);
    const parent = Number(lines[3]);
    expect(parent).not.toBe(process.pid);
    expect(helperPids()).toContain(parent);
    expect(group).toBeGreaterThan(0);
  });

  it('times out through the helper: the whole group is killed', async () => {
    let group = 0;
    const result = await run('sleep 30 & sleep 30; echo never', { timeoutMs: 300, onGroup: (pgid) => (group = pgid) });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeUndefined();
    expect(result.stdout).toBe('');
    expect(runningInGroup(group)).toEqual([]);
  });

  it('when the helper dies, its running commands fail as infrastructure errors with their groups killed, and the next command gets a new helper', async () => {
    let group = 0;
    const running = run('sleep 30', { onGroup: (pgid) => (group = pgid) });
    while (group === 0) await delay(10);
    const [helper] = helperPids();
    expect(helper).toBeGreaterThan(0);
    expect(parentOf(group)).toBe(helper);
    process.kill(helper!, 'SIGKILL');
    const failure = await running.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InfraError);
    expect((failure as Error).message).toMatch(/spawn helper process exited/);
    for (let i = 0; i < 50 && runningInGroup(group).length > 0; i++) await delay(20);
    expect(runningInGroup(group)).toEqual([]);

    const next = await run('echo again; echo $PPID');
    expect(next.exitCode).toBe(0);
    const [line, parent] = next.stdout.trim().split('\n');
    expect(line).toBe('again');
    expect(Number(parent)).not.toBe(helper);
    expect(helperPids()).toContain(Number(parent));
  });
});
