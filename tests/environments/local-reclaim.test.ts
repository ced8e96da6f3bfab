import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_ROOT_PREFIX } from '../../src/environments/local/root-name.js';
import { reclaimLocal } from '../../src/environments/local-reclaim.js';
import { tempDir } from '../helpers/trials.js';

/** The pid of a process that has exited (pids are not reused this soon). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

describe('reclaimLocal', () => {
  it("removes a dead run's trial root and keeps a live run's", async () => {
    const baseDir = await tempDir('local-reclaim');
    const dead = join(baseDir, `${LOCAL_ROOT_PREFIX}${deadPid()}-t__no-skills__1-ab12-x`);
    const live = join(baseDir, `${LOCAL_ROOT_PREFIX}${process.pid}-t__no-skills__2-cd34-y`);
    await mkdir(join(dead, 'app'), { recursive: true });
    await mkdir(join(live, 'app'), { recursive: true });
    expect(await reclaimLocal({ baseDir })).toEqual({ removed: 1, notes: [] });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
