/** The exec transport's marker lines and the shell programs it runs, read without an engine. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SCRIPTS } from '../../src/environments/docker/scripts.js';
import { parseGroup, readMarker } from '../../src/environments/docker/transport.js';

describe('marker lines', () => {
  it('reads a marker as word and value, and nothing else as one', () => {
    expect(readMarker('\x1eSKILL_EVAL_EXEC 12 7')).toEqual({ word: 'EXEC', value: '12 7' });
    expect(readMarker('\x1eSKILL_EVAL_PREPARED')).toEqual({ word: 'PREPARED', value: '' });
    expect(readMarker('\x1eSKILL_EVAL_PREP_FAILED chown x /logs')).toEqual({
      word: 'PREP_FAILED',
      value: 'chown x /logs',
    });
    expect(readMarker('SKILL_EVAL_EXEC 12 7')).toBeUndefined();
    expect(readMarker('plain output')).toBeUndefined();
  });

  it('takes a process group only from digits; a missing or odd session is empty', () => {
    expect(parseGroup('12 7')).toEqual({ pgid: '12', sid: '7' });
    expect(parseGroup(' 12 ')).toEqual({ pgid: '12', sid: '' });
    expect(parseGroup('12 x')).toEqual({ pgid: '12', sid: '' });
    expect(parseGroup('x 7')).toBeUndefined();
    expect(parseGroup('')).toBeUndefined();
  });
});

describe('shell programs', () => {
  it('are complete bash programs (bash -n), with the shared pieces prepended', () => {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      const check = spawnSync('bash', ['-n', '-c', script], { encoding: 'utf8' });
      expect({ name, stderr: check.stderr, status: check.status }).toEqual({ name, stderr: '', status: 0 });
    }
    expect(SCRIPTS.verify).toMatch(/^stop_all\(\) \{/m);
    expect(SCRIPTS.stopAll).toMatch(/stop_all "\$1"\n$/);
    expect(SCRIPTS.exec).toContain('/etc/hosts');
    expect(SCRIPTS.keepalive).toContain('/etc/hosts');
  });

  it('the exec wrapper reports its group first, then passes the command through with its exit code', () => {
    const run = spawnSync('bash', ['-c', SCRIPTS.exec, 'skill-eval-exec', 'echo out; echo err >&2; exit 3'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('out\n');
    const [first, ...rest] = run.stderr.split('\n');
    expect(readMarker(first!)?.word).toBe('EXEC');
    expect(parseGroup(readMarker(first!)!.value)?.pgid).toMatch(/^\d+$/);
    expect(rest.join('\n')).toBe('err\n');
  });
});
