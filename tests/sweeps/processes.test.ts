import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InfraError, UsageError } from '../../src/errors.js';
import {
  acquireLock,
  freePort,
  groupMembers,
  MARKER_VARIABLE,
  runLogged,
  startServer,
  stopOrphans,
} from '../../src/sweeps/processes.js';
import { groupAlive, signalGroup } from '../../src/util/process-group.js';

const SERVE = resolve(import.meta.dirname, '../fixtures/sweeps/serve.mjs');
const env = process.env as Record<string, string>;
const started: number[] = [];

afterEach(() => {
  for (const pgid of started.splice(0)) signalGroup(pgid, 'SIGKILL');
});

/** A process group that outlives its starter, like the server of a sweep killed with -9. */
function orphanGroup(marker: string): number {
  const child = spawn('bash', ['-c', 'sleep 300 & sleep 300; wait'], {
    detached: true,
    stdio: 'ignore',
    env: { ...env, [MARKER_VARIABLE]: marker },
  });
  child.unref();
  started.push(child.pid!);
  return child.pid!;
}

describe('the model server process', () => {
  it('waits for GET /models, then stops the whole group: nothing survives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-serve-'));
    const port = await freePort();
    const pidFile = join(dir, 'serve.pid.json');
    // A helper process in the background, as real servers have (workers, tokenizers).
    const server = await startServer({
      role: 'serve',
      command: `sleep 300 & exec node ${SERVE} --checkpoint blank --port ${port}`,
      cwd: dir,
      env,
      logPath: join(dir, 'serve.log'),
      pidFile,
      baseUrl: `http://127.0.0.1:${port}/v1`,
      readyTimeoutMs: 30_000,
    });
    started.push(server.pgid!);
    expect(JSON.parse(await readFile(pidFile, 'utf8'))).toMatchObject({ pgid: server.pgid, role: 'serve' });
    expect((await groupMembers(server.pgid!))!.length).toBe(2);
    const models = (await fetch(`http://127.0.0.1:${port}/v1/models`).then((r) => r.json())) as {
      data: { id: string }[];
    };
    expect(models.data[0]!.id).toBe('blank');

    expect(await server.stop()).toBe(true);
    expect(groupAlive(server.pgid!)).toBe(false);
    expect(await groupMembers(server.pgid!)).toEqual([]);
    expect(existsSync(pidFile)).toBe(false);
    expect(await readFile(join(dir, 'serve.log'), 'utf8')).toMatch(/serving blank .* on http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(
      await fetch(`http://127.0.0.1:${port}/v1/models`).then(
        () => 'answered',
        () => 'refused',
      ),
    ).toBe('refused');
  });

  it('fails fast when the server exits, and after the timeout when it never answers; the group is gone either way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-serve-'));
    const options = {
      role: 'serve' as const,
      cwd: dir,
      env,
      logPath: join(dir, 'serve.log'),
      pidFile: join(dir, 'serve.pid.json'),
      baseUrl: `http://127.0.0.1:${await freePort()}/v1`,
    };
    const before = Date.now();
    const exited = await startServer({
      ...options,
      command: 'echo cannot load weights >&2; exit 3',
      readyTimeoutMs: 30_000,
    }).catch((error: unknown) => error);
    expect(exited).toBeInstanceOf(InfraError);
    expect((exited as InfraError).message).toMatch(/exited before/);
    expect((exited as InfraError).hint).toContain('serve.log');
    expect(Date.now() - before).toBeLessThan(10_000);
    expect(await readFile(options.logPath, 'utf8')).toContain('cannot load weights');

    const leaderFile = join(dir, 'leader');
    const silent = await startServer({
      ...options,
      command: `echo $$ > ${leaderFile}; sleep 300 & sleep 300`,
      readyTimeoutMs: 600,
    }).catch((error: unknown) => error);
    expect((silent as InfraError).message).toMatch(/did not answer GET \/models within/);
    const pgid = Number(await readFile(leaderFile, 'utf8'));
    started.push(pgid);
    expect(groupAlive(pgid)).toBe(false);
    expect(existsSync(options.pidFile)).toBe(false);
  });

  it('runs a command to the end with its output in the log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-train-'));
    const result = await runLogged({
      role: 'train',
      command: `echo "step 1 loss 0.5"; echo "$${MARKER_VARIABLE}" | wc -c; exit 4`,
      cwd: dir,
      env,
      logPath: join(dir, 'train.log'),
      pidFile: join(dir, 'train.pid.json'),
    });
    expect(result.exitCode).toBe(4);
    const log = await readFile(join(dir, 'train.log'), 'utf8');
    expect(log).toMatch(/^# .* \$ echo "step 1 loss 0\.5"/);
    expect(log).toContain('step 1 loss 0.5\n17\n');
    expect(log).toMatch(/# .* exit 4 after \d+ ms\n$/);
    expect(existsSync(join(dir, 'train.pid.json'))).toBe(false);
  });
});

describe('orphans of an interrupted sweep', () => {
  it('stops a group whose process carries the pid file marker, and leaves alone one that does not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-orphans-'));
    const ours = orphanGroup('aaaa1111');
    const stranger = orphanGroup('something-else');
    await delay(100);
    await writeFile(
      join(dir, 'serve.pid.json'),
      JSON.stringify({ pgid: ours, marker: 'aaaa1111', role: 'serve', command: 'x', owner_pid: 1, started_at: '' }),
    );
    await writeFile(
      join(dir, 'train.pid.json'),
      JSON.stringify({ pgid: stranger, marker: 'bbbb2222', role: 'train', command: 'x', owner_pid: 1, started_at: '' }),
    );
    const notes = await stopOrphans([
      join(dir, 'serve.pid.json'),
      join(dir, 'train.pid.json'),
      join(dir, 'missing.pid.json'),
    ]);
    expect(notes).toEqual([expect.stringMatching(new RegExp(`stopped the serve process group ${ours}`))]);
    expect(groupAlive(ours)).toBe(false);
    expect(groupAlive(stranger)).toBe(true);
    expect(existsSync(join(dir, 'serve.pid.json'))).toBe(false);
    expect(existsSync(join(dir, 'train.pid.json'))).toBe(false);
  });
});

describe('the out-root lock', () => {
  it('refuses a second sweep while the first holds it, and takes over a lock whose owner is dead', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-lock-'));
    const path = join(dir, '.lock');
    const release = await acquireLock(path);
    await expect(acquireLock(path)).rejects.toThrow(UsageError);
    await release();
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    await writeFile(path, JSON.stringify({ pid: dead.pid }));
    const again = await acquireLock(path);
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await again();
    expect(existsSync(path)).toBe(false);
  });
});
