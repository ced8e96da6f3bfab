import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  baseStageEnv,
  type CommandStageContext,
  classifyFailure,
  expandVariables,
  runCommandStage,
} from '../../src/targets/stages.js';
import { Redactor } from '../../src/util/secrets.js';

async function context(overrides: Partial<CommandStageContext> = {}): Promise<CommandStageContext> {
  const targetDir = await mkdtemp(join(tmpdir(), 'skill-eval-stage-'));
  return {
    stage: 'setup',
    targetDir,
    env: { ...baseStageEnv(), SKILL_EVAL_TARGET_DIR: targetDir },
    logsDir: join(targetDir, '..', `${targetDir.split('/').pop()}-logs`),
    redactor: new Redactor([]),
    defaultTimeoutSec: 30,
    deadline: Date.now() + 60_000,
    ...overrides,
  };
}

describe('command stages', () => {
  it('retries a failing command as the contract says, logging every attempt', async () => {
    const ctx = await context();
    const log = await runCommandStage(
      {
        commands: [{ run: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ "$n" -ge 2 ]', retries: 2 }],
      },
      ctx,
    );
    expect(log.ok).toBe(true);
    expect(log.commands.map((c) => [c.attempt, c.exit_code])).toEqual([
      [1, 1],
      [2, 1],
      [3, 0],
    ]);
    expect(log.failure).toBeUndefined();
    const written = JSON.parse(await readFile(join(ctx.logsDir, 'setup.json'), 'utf8'));
    expect(written.commands).toHaveLength(3);
  });

  it('stops at the first command that still fails, with a classified failure and the output tails', async () => {
    const ctx = await context();
    const log = await runCommandStage(
      { commands: [{ run: 'echo one' }, { run: 'python3 -c "import no_such_module_here"' }, { run: 'echo never' }] },
      ctx,
    );
    expect(log.ok).toBe(false);
    expect(log.commands.map((c) => c.index)).toEqual([1, 2]);
    expect(log.failure).toMatchObject({ stage: 'setup', code: 'command_failed', class: 'missing_module' });
    expect(log.commands[1]!.stderr_tail).toMatch(/No module named/);
  });

  it('kills a command at its timeout', async () => {
    const ctx = await context();
    const started = Date.now();
    const log = await runCommandStage({ commands: [{ run: 'sleep 30', timeout_sec: 0.5 }] }, ctx);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(log.failure).toMatchObject({ code: 'command_timeout', class: 'timeout' });
    expect(log.commands[0]).toMatchObject({ timed_out: true, exit_code: undefined });
  });

  it('applies env (stage, then command) and workdir; host secrets stay out; ${VAR} expands in workdir', async () => {
    process.env.SKILL_EVAL_TEST_API_KEY = 'host-secret-value';
    try {
      const ctx = await context();
      const log = await runCommandStage(
        {
          env: { A: 'stage', B: 'stage' },
          commands: [
            {
              run: 'echo "$A $B $(basename "$PWD")"; env | grep -c HOST_SECRET_NEVER || true; echo "key=${SKILL_EVAL_TEST_API_KEY:-unset}"',
              env: { B: 'command' },
              workdir: '${SKILL_EVAL_TARGET_DIR}/sub',
            },
          ],
        },
        ctx,
      );
      expect(log.ok).toBe(true);
      expect(log.commands[0]!.stdout_tail).toBe('stage command sub\n0\nkey=unset\n');
      expect(log.commands[0]!.workdir).toBe('sub');
    } finally {
      delete process.env.SKILL_EVAL_TEST_API_KEY;
    }
  });

  it('stops when the total time limit has run out', async () => {
    const ctx = await context({ deadline: Date.now() - 1 });
    const log = await runCommandStage({ commands: ['echo hi'].map((run) => ({ run })) }, ctx);
    expect(log.failure).toMatchObject({ code: 'total_timeout', class: 'timeout' });
  });

  it('redacts secrets from logs', async () => {
    const ctx = await context({
      redactor: new Redactor(['sk-very-secret-1234']),
      env: { ...baseStageEnv(), TOKEN: 'sk-very-secret-1234' },
    });
    const log = await runCommandStage({ commands: [{ run: 'echo "token is $TOKEN"' }] }, ctx);
    expect(log.commands[0]!.stdout_tail).toBe('token is [REDACTED]\n');
    expect(await readFile(log.commands[0]!.stdout_log, 'utf8')).not.toContain('sk-very-secret');
  });
});

describe('failure classification', () => {
  it.each([
    ['Error: 401 Unauthorized: invalid api key', 'auth'],
    ['RuntimeError: Found no NVIDIA driver on your system', 'gpu'],
    ['bash: line 1: lm_eval: command not found', 'command_not_found'],
    ["ModuleNotFoundError: No module named 'datasets'", 'missing_module'],
    ["Error: Cannot find module '/bench/generat.mjs'", 'missing_file'],
    ["python: can't open file 'eval.py': [Errno 2] No such file or directory", 'missing_file'],
    ['curl: (6) Could not resolve host: example.org', 'network'],
    ['assertion failed', 'exit_code'],
  ])('%s → %s', (text, expected) => {
    expect(classifyFailure(text, false)).toBe(expected);
  });

  it('expands only the runner variables it is given', () => {
    expect(expandVariables('${A}/x/$B/$C', { A: 'a', B: 'b' })).toBe('a/x/b/$C');
  });
});
