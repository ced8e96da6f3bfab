import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  CLAIMS_DIR,
  ClaimBook,
  type ClaimRecord,
  claimTiming,
  createExclusive,
  currentClaim,
  listWorkers,
} from '../../src/jobs/claims.js';
import { tempDir } from '../helpers/trials.js';

const TRIAL = 'task__oracle__no-skills__1';

/** A claim record as another process would have written it. */
async function plantClaim(jobDir: string, record: Partial<ClaimRecord> & { owner: ClaimRecord['owner'] }) {
  const at = new Date().toISOString();
  const full: ClaimRecord = {
    trial: TRIAL,
    generation: 1,
    state: 'running',
    started_at: at,
    heartbeat_at: at,
    beat: 0,
    ...record,
  };
  await mkdir(join(jobDir, CLAIMS_DIR, TRIAL), { recursive: true });
  await writeFile(join(jobDir, CLAIMS_DIR, TRIAL, `${full.generation}.json`), JSON.stringify(full));
  return full;
}

function deadPid(): number {
  const child = spawnSync('true');
  return child.pid!;
}

describe('createExclusive', () => {
  it('creates a complete file once; a second create of the name fails and leaves it as it was', async () => {
    const dir = await tempDir('claims-excl-');
    const path = join(dir, '1.json');
    expect(createExclusive(path, 'first')).toBe(true);
    expect(createExclusive(path, 'second')).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('first');
  });
});

describe('ClaimBook', () => {
  it('never takes a live claim: another process on this host that is alive keeps it', async () => {
    const jobDir = await tempDir('claims-live-');
    const a = new ClaimBook(jobDir, claimTiming(50));
    const b = new ClaimBook(jobDir, claimTiming(50));
    const first = a.tryClaim(TRIAL);
    expect(first.held?.generation).toBe(1);
    await delay(120); // longer than the stale timeout: liveness on this host is the pid, not the heartbeat
    const second = b.tryClaim(TRIAL);
    expect(second.held).toBeUndefined();
    expect(second.held === undefined && second.heldBy?.owner.worker).toBe(a.owner.worker);
  });

  it('takes over a claim whose owner process is gone from this host, as the next generation', async () => {
    const jobDir = await tempDir('claims-dead-');
    await plantClaim(jobDir, { owner: { host: hostname(), pid: deadPid(), worker: 'dead-worker' } });
    const book = new ClaimBook(jobDir);
    const attempt = book.tryClaim(TRIAL);
    expect(attempt.held?.generation).toBe(2);
    expect(attempt.held && attempt.tookOver?.reason).toMatch(/is gone/);
    expect(currentClaim(jobDir, TRIAL).record?.owner.worker).toBe(book.owner.worker);
  });

  it("takes over another host's claim whose heartbeat is older than the timeout plus the clock-skew allowance", async () => {
    const jobDir = await tempDir('claims-old-');
    const timing = claimTiming(1000);
    const old = new Date(Date.now() - timing.staleMs - timing.skewMs - 1000).toISOString();
    await plantClaim(jobDir, { owner: { host: 'elsewhere', pid: 1, worker: 'w' }, heartbeat_at: old });
    const attempt = new ClaimBook(jobDir, timing).tryClaim(TRIAL);
    expect(attempt.held && attempt.tookOver?.reason).toMatch(/s old/);
  });

  it("waits out another host's recent heartbeat that stops moving (clocks may disagree), then takes it over", async () => {
    const jobDir = await tempDir('claims-still-');
    await plantClaim(jobDir, { owner: { host: 'elsewhere', pid: 1, worker: 'w' } });
    const book = new ClaimBook(jobDir, claimTiming(1000));
    expect(book.tryClaim(TRIAL).held).toBeUndefined();
    expect(book.tryClaim(TRIAL).held).toBeUndefined();
    await delay(600);
    // The heartbeat moves: the watch starts again when this process first sees the new beat.
    await plantClaim(jobDir, { owner: { host: 'elsewhere', pid: 1, worker: 'w' }, beat: 1 });
    expect(book.tryClaim(TRIAL).held).toBeUndefined();
    await delay(600);
    // 1.2 s since the first look, but only 0.6 s since the beat moved.
    expect(book.tryClaim(TRIAL).held).toBeUndefined();
    await delay(500);
    const attempt = book.tryClaim(TRIAL);
    expect(attempt.held && attempt.tookOver?.reason).toMatch(/has not moved/);
  });

  it('lets exactly one of two takers win a stale claim', async () => {
    const jobDir = await tempDir('claims-race-');
    await plantClaim(jobDir, { owner: { host: hostname(), pid: deadPid(), worker: 'dead' } });
    const a = new ClaimBook(jobDir);
    const b = new ClaimBook(jobDir);
    const results = [a.tryClaim(TRIAL), b.tryClaim(TRIAL)];
    expect(results.filter((r) => r.held).length).toBe(1);
    expect(currentClaim(jobDir, TRIAL).generation).toBe(2);
  });

  it('heartbeats move the claim; a claim taken over meanwhile is given up through its `lost` signal', async () => {
    const jobDir = await tempDir('claims-beat-');
    const a = new ClaimBook(jobDir, claimTiming(200));
    const held = a.tryClaim(TRIAL).held!;
    a.heartbeat();
    expect(currentClaim(jobDir, TRIAL).record?.beat).toBe(1);
    // Another process judged it dead and wrote generation 2.
    await plantClaim(jobDir, { generation: 2, owner: { host: 'elsewhere', pid: 1, worker: 'taker' } });
    a.heartbeat();
    expect(held.lost.signal.aborted).toBe(true);
    // Its release leaves the taker's claim alone.
    a.release(held, 'done');
    expect(currentClaim(jobDir, TRIAL).record?.owner.worker).toBe('taker');
    expect(JSON.parse(await readFile(join(jobDir, CLAIMS_DIR, TRIAL, '1.json'), 'utf8')).state).toBe('running');
  });

  it('a released or done claim is free: the next claim follows it', async () => {
    const jobDir = await tempDir('claims-free-');
    const a = new ClaimBook(jobDir);
    const b = new ClaimBook(jobDir);
    a.release(a.tryClaim(TRIAL).held!, 'released');
    const next = b.tryClaim(TRIAL);
    expect(next.held?.generation).toBe(2);
    expect(next.held && next.previous?.state).toBe('released');
    b.release(next.held!, 'done');
    expect(a.tryClaim(TRIAL).held?.generation).toBe(3);
  });

  it("lists the job's workers; a stopped one leaves, releasing what it held", async () => {
    const jobDir = await tempDir('claims-workers-');
    const a = new ClaimBook(jobDir, claimTiming(100));
    const b = new ClaimBook(jobDir, claimTiming(100));
    a.start('eval', 2);
    b.start('worker', 1);
    expect(a.otherWorkers().map((w) => w.command)).toEqual(['worker']);
    const held = b.tryClaim(TRIAL).held!;
    b.stop();
    expect(listWorkers(jobDir).map((w) => w.owner.worker)).toEqual([a.owner.worker]);
    expect(currentClaim(jobDir, TRIAL).record).toMatchObject({ generation: held.generation, state: 'released' });
    a.stop();
    expect(existsSync(join(jobDir, CLAIMS_DIR, '.workers', `${a.owner.worker}.json`))).toBe(false);
  });
});
