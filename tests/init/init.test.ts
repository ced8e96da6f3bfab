import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { type InitOptions, runInit } from '../../src/init/init.js';
import { TEMPLATE_TASK_NAME } from '../../src/init/template.js';
import { parseTaskToml } from '../../src/task/schema.js';
import { validateTasks } from '../../src/task/validate.js';
import { tempDir } from '../helpers/trials.js';

const OPTIONS: InitOptions = {
  force: false,
  count: 3,
  provider: 'local',
  resultsDir: 'results',
  concurrency: 1,
};
/** No key anywhere: the template path. */
const NO_KEYS = { PATH: process.env.PATH };

async function skillFolder(name = 'pdf-forms'): Promise<string> {
  const dir = join(await tempDir('init'), name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'SKILL.md'),
    `---\nname: ${name}\ndescription: Fills PDF forms from JSON data. Use when a user needs a PDF form filled in.\n---\n# PDF forms\n`,
  );
  return dir;
}

describe('skill-eval init without an agent: the commented template', () => {
  it('writes one Harbor task under <skill>/evals that `tasks validate` accepts as written, without warnings', async () => {
    const dir = await skillFolder();
    const outcome = await runInit(OPTIONS, dir, { hostEnv: NO_KEYS });
    expect(outcome.mode).toBe('template');
    const taskDir = join(dir, 'evals', TEMPLATE_TASK_NAME);
    const report = await validateTasks([join(dir, 'evals')], { cwd: dir });
    expect(report.summary).toEqual({ tasks: 1, ok: 1, withErrors: 0, warnings: 0 });
    expect(report.tasks[0]?.dir).toBe(taskDir);
    for (const script of ['tests/test.sh', 'solution/solve.sh'])
      expect((await stat(join(taskDir, script))).mode & 0o111, script).not.toBe(0);
    expect(await stat(join(dir, 'evals', 'README.md'))).toBeTruthy();
  });

  it('explains every file: graders commented out (with the rubric it ships), the base image, the hidden skill', async () => {
    const dir = await skillFolder();
    await runInit(OPTIONS, dir, { hostEnv: NO_KEYS });
    const taskDir = join(dir, 'evals', TEMPLATE_TASK_NAME);
    const toml = await readFile(join(taskDir, 'task.toml'), 'utf8');
    // The [[graders]] example is there but commented: the template needs no judge key.
    expect(toml).toMatch(/^# \[\[graders\]\]$/m);
    expect(toml).toMatch(/^# rubric = "graders\/rubric\.md"/m);
    expect(toml).not.toMatch(/^\[\[graders\]\]/m);
    const parsed = parseTaskToml(toml, 'task.toml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.config?.task?.name).toBe(TEMPLATE_TASK_NAME);
    expect(parsed.config?.environment.allowInternet).toBe(false);
    expect(await readFile(join(taskDir, 'tests/graders/rubric.md'), 'utf8')).toMatch(/pdf-forms skill/);
    expect(await readFile(join(taskDir, 'environment/Dockerfile'), 'utf8')).toMatch(
      /^FROM skill-eval\/base:bookworm$/m,
    );
    const instruction = await readFile(join(taskDir, 'instruction.md'), 'utf8');
    expect(instruction).toMatch(/do NOT name the skill/);
    expect(instruction).not.toContain('pdf-forms');
  });

  it('refuses to overwrite an evals folder that has content, naming what is there; --force replaces the template', async () => {
    const dir = await skillFolder();
    await runInit(OPTIONS, dir, { hostEnv: NO_KEYS });
    const instruction = join(dir, 'evals', TEMPLATE_TASK_NAME, 'instruction.md');
    await writeFile(instruction, 'edited\n');
    const refused = await runInit(OPTIONS, dir, { hostEnv: NO_KEYS }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).message).toBe(
      `evals already has README.md, ${TEMPLATE_TASK_NAME}: skill-eval init does not overwrite`,
    );
    expect((refused as UsageError).hint).toMatch(/--force/);
    expect(await readFile(instruction, 'utf8')).toBe('edited\n');
    await runInit({ ...OPTIONS, force: true }, dir, { hostEnv: NO_KEYS });
    expect(await readFile(instruction, 'utf8')).toMatch(/greeting\.txt/);
  });

  it('a folder without SKILL.md is a UsageError naming the folder and what was expected', async () => {
    const dir = await tempDir('init-empty');
    const error = (await runInit(OPTIONS, dir, { hostEnv: NO_KEYS }).catch((e: unknown) => e)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `no SKILL.md in the current directory (${dir}): skill-eval init writes evaluation tasks for the skill in that folder`,
    );
    expect(error.hint).toContain(join(dir, 'SKILL.md'));
    const nested = (await runInit({ ...OPTIONS, dir: 'nowhere' }, dir, { hostEnv: NO_KEYS }).catch(
      (e: unknown) => e,
    )) as UsageError;
    expect(nested.message).toMatch(/^no SKILL\.md in nowhere: /);
  });

  it('several API keys and no --agent: a UsageError listing them, before anything is written', async () => {
    const dir = await skillFolder();
    const error = (await runInit(OPTIONS, dir, {
      hostEnv: { ANTHROPIC_API_KEY: 'sk-ant-aaaa', OPENAI_API_KEY: 'sk-oooo' },
    }).catch((e: unknown) => e)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/several API keys are set \(ANTHROPIC_API_KEY, OPENAI_API_KEY\)/);
    await expect(stat(join(dir, 'evals'))).rejects.toThrow(/ENOENT/);
  });

  it('--agent that calls no model, or without its key, is a UsageError before anything is written', async () => {
    const dir = await skillFolder();
    await expect(runInit({ ...OPTIONS, agent: 'oracle' }, dir, { hostEnv: NO_KEYS })).rejects.toThrow(
      '--agent oracle cannot draft tasks: it calls no model',
    );
    await expect(runInit({ ...OPTIONS, agent: 'claude' }, dir, { hostEnv: NO_KEYS })).rejects.toThrow(
      'the claude agent needs ANTHROPIC_API_KEY, which is not set',
    );
    await expect(runInit({ ...OPTIONS, agent: 'nobody' }, dir, { hostEnv: NO_KEYS })).rejects.toThrow(
      'unknown agent "nobody"',
    );
    await expect(stat(join(dir, 'evals'))).rejects.toThrow(/ENOENT/);
  });
});
