import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PhaseClock } from '../../src/trial/phase-clock.js';
import { Redactor } from '../../src/util/secrets.js';
import { SessionLog } from '../../src/util/session-log.js';
import { tempDir } from '../helpers/trials.js';

async function clockWithLog() {
  const path = join(await tempDir('phase-clock'), 'session.jsonl');
  const log = new SessionLog(path, new Redactor([]));
  const reported: string[] = [];
  const clock = new PhaseClock(log, (phase) => reported.push(phase));
  const entries = () => {
    log.close();
    return readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { phase: string; state: string });
  };
  return { clock, reported, entries };
}

describe('phase clock', () => {
  it('times, logs and reports each phase, and knows the phase entered last', async () => {
    const { clock, reported, entries } = await clockWithLog();
    expect(clock.current).toBe('environment_setup');
    expect(await clock.run('agent', async () => 42)).toBe(42);
    expect(clock.current).toBe('agent');
    await clock.run('verifier', async () => clock.record('collect', 7));
    expect(clock.current).toBe('verifier');
    expect(Object.keys(clock.timings)).toEqual(['agent_ms', 'collect_ms', 'verifier_ms']);
    expect(clock.timings.collect_ms).toBe(7);
    expect(reported).toEqual(['agent', 'verifier']);
    expect(entries().map((e) => `${e.phase}:${e.state}`)).toEqual([
      'agent:start',
      'agent:end',
      'verifier:start',
      'verifier:end',
    ]);
  });

  it('still times and ends a phase that throws, and stays in it', async () => {
    const { clock, entries } = await clockWithLog();
    await clock.run('environment_setup', async () => undefined);
    await expect(
      clock.run('skills', async () => {
        throw new Error('upload failed');
      }),
    ).rejects.toThrow('upload failed');
    expect(clock.current).toBe('skills');
    expect(clock.timings.skills_ms).toBeTypeOf('number');
    expect(entries().at(-1)).toMatchObject({ phase: 'skills', state: 'end' });
  });
});
