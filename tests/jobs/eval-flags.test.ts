import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  applyEvalFlags,
  loadEvalDotEnv,
  resolveAgent,
  resolveTrials,
  TRIAL_PRESETS,
} from '../../src/jobs/eval-flags.js';
import { tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

function thrown(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('trial presets', () => {
  it('--smoke 5, --reliable 15, --regression 30; none: --trials', () => {
    expect(TRIAL_PRESETS).toEqual({ smoke: 5, reliable: 15, regression: 30 });
    expect(resolveTrials({ smoke: true }, 5, false)).toBe(5);
    expect(resolveTrials({ reliable: true }, 5, false)).toBe(15);
    expect(resolveTrials({ regression: true }, 5, false)).toBe(30);
    expect(resolveTrials({}, 7, true)).toBe(7);
  });

  it('a preset with an explicit --trials, or two presets, is a UsageError', () => {
    expect(thrown(() => resolveTrials({ reliable: true }, 3, true)).message).toBe(
      '--reliable sets --trials=15; it cannot be combined with --trials',
    );
    const two = thrown(() => resolveTrials({ smoke: true, regression: true }, 5, false));
    expect(two.message).toBe('--smoke and --regression contradict each other');
    expect(two.hint).toMatch(/--smoke \(5 trials\), --reliable \(15 trials\), --regression \(30 trials\)/);
  });
});

describe('the agent when --agent is not given', () => {
  it('the given --agent wins; else the key that is set; else the default (gemini)', () => {
    expect(resolveAgent('codex', true, { ANTHROPIC_API_KEY: 'k' })).toBe('codex');
    expect(resolveAgent('gemini', false, { ANTHROPIC_API_KEY: 'k' })).toBe('claude');
    expect(resolveAgent('gemini', false, {})).toBe('gemini');
    // Several keys with --agent given: no question to ask.
    expect(resolveAgent('claude', true, { ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'b' })).toBe('claude');
    expect(
      thrown(() => resolveAgent('gemini', false, { ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'b' })).message,
    ).toMatch(/several API keys are set \(ANTHROPIC_API_KEY, OPENAI_API_KEY\)/);
  });
});

describe('.env files of an eval', () => {
  async function layout() {
    const root = await tempDir('eval-dotenv');
    const skill = join(root, 'my-skill');
    const taskA = join(skill, 'evals', 'a');
    const taskB = join(skill, 'evals', 'b');
    for (const task of [taskA, taskB]) {
      await mkdir(join(task, 'tests'), { recursive: true });
      await writeFile(join(task, 'task.toml'), 'schema_version = "1.1"\n');
    }
    await writeFile(join(skill, 'SKILL.md'), '---\nname: my-skill\ndescription: d\n---\n');
    return { root, skill, taskA, taskB };
  }

  it('working directory, then skill folder, then task: the more specific wins, the shell over all', async () => {
    const { skill, taskA } = await layout();
    await writeFile(join(skill, '.env'), 'WHERE=skill\nSKILL_ONLY=1\nSHELL_WINS=file\n');
    await writeFile(join(taskA, '.env'), 'WHERE=task\nTASK_TOKEN=tok-123456\n');
    const loaded = await loadEvalDotEnv({ cwd: skill, tasks: ['evals/a'], shellEnv: { SHELL_WINS: 'shell' } });
    expect(loaded.files).toEqual([join(skill, '.env'), join(taskA, '.env')]);
    expect(loaded.env).toMatchObject({ WHERE: 'task', SKILL_ONLY: '1', SHELL_WINS: 'shell', TASK_TOKEN: 'tok-123456' });
    expect(loaded.names).toEqual(['SHELL_WINS', 'SKILL_ONLY', 'TASK_TOKEN', 'WHERE']);
  });

  it('the skill folder is found from inside its evals folder', async () => {
    const { skill } = await layout();
    await writeFile(join(skill, '.env'), 'FROM_SKILL=yes\n');
    const loaded = await loadEvalDotEnv({ cwd: join(skill, 'evals'), tasks: ['a'], shellEnv: {} });
    expect(loaded.env.FROM_SKILL).toBe('yes');
  });

  it('two task directories giving one variable different values is a UsageError naming both files', async () => {
    const { skill, taskA, taskB } = await layout();
    await writeFile(join(taskA, '.env'), 'MODE=fast\n');
    await writeFile(join(taskB, '.env'), 'MODE=slow\n');
    const error = await loadEvalDotEnv({ cwd: skill, tasks: ['evals'], shellEnv: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      'MODE has different values in evals/a/.env and evals/b/.env: one job has one environment',
    );
  });

  it('applyEvalFlags: the preset, the .env names forwarded before --env, the agent from the key in .env', async () => {
    const { skill } = await layout();
    await writeFile(join(skill, '.env'), 'ANTHROPIC_API_KEY=sk-ant-from-file\nEXTRA=1\n');
    const raw = { ...trivialJobOptions(join(skill, 'results')), agent: 'gemini', env: ['EXTRA=2'], smoke: true };
    const { options, hostEnv, notes } = await applyEvalFlags(raw, skill, { given: () => false, shellEnv: {} });
    expect(options.trials).toBe(5);
    expect(options.agent).toBe('claude');
    expect(options.env).toEqual(['ANTHROPIC_API_KEY', 'EXTRA', 'EXTRA=2']);
    expect(options).not.toHaveProperty('smoke');
    expect(hostEnv.ANTHROPIC_API_KEY).toBe('sk-ant-from-file');
    expect(notes).toEqual(['read .env', 'agent: claude, from the one API key set (--agent chooses another)']);
    const given = await applyEvalFlags({ ...raw, smoke: false, agent: 'oracle' }, skill, {
      given: (flag) => flag === 'agent',
      shellEnv: {},
    });
    expect(given.options.agent).toBe('oracle');
    expect(given.notes).toEqual(['read .env']);
  });
});
