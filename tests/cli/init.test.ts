import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

const NO_KEYS = { ANTHROPIC_API_KEY: undefined, GEMINI_API_KEY: undefined, OPENAI_API_KEY: undefined };

describe('skill-eval init (no API key: the commented template)', () => {
  it('in a skill folder: writes evals/example-task, which `tasks validate` and `tasks check` accept as written', async () => {
    const skill = join(await tempDir('cli-init'), 'csv-tidy');
    await mkdir(skill, { recursive: true });
    await writeFile(
      join(skill, 'SKILL.md'),
      '---\nname: csv-tidy\ndescription: Tidies CSV files the team way. Use when a CSV needs cleaning.\n---\n# CSV tidy\n',
    );
    const init = await runCli(['init'], { cwd: skill, env: NO_KEYS });
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^wrote a commented task template for csv-tidy:$/m);
    expect(init.stdout).toContain('evals/example-task/task.toml');
    expect(init.stdout).toMatch(/No API key is set/);

    const validate = await runCli(['tasks', 'validate', 'evals'], { cwd: skill });
    expect(validate.exitCode, validate.stdout).toBe(0);
    expect(validate.stdout).toMatch(/^evals\/example-task: ok$/m);
    const check = await runCli(
      ['tasks', 'check', 'evals', '--provider=local', `--results-dir=${join(skill, '..', 'results')}`],
      { cwd: skill },
    );
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/example-task \| 1\/1 passed\s+\| 0\/1 passed\s+\| ok/);

    const again = await runCli(['init'], { cwd: skill, env: NO_KEYS });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(
      /^error: evals already has README\.md, example-task: skill-eval init does not overwrite$/m,
    );
  });

  it('a folder without SKILL.md: exit 2 with one clear message, no stack trace', async () => {
    const dir = await tempDir('cli-init-none');
    const run = await runCli(['init', dir], { env: NO_KEYS });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^error: no SKILL\.md in .*: skill-eval init writes evaluation tasks/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
