import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skillFirstRun } from '../../src/jobs/skill-first.js';
import { tempDir } from '../helpers/trials.js';

const SKILL_MD = '---\nname: tidy\ndescription: Keeps files tidy.\n---\nRun tidy.\n';

async function skillFolder(layout: 'evals' | 'eval.yaml' | 'none'): Promise<string> {
  const dir = join(await tempDir('skill-first'), 'tidy');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'SKILL.md'), SKILL_MD);
  if (layout === 'evals') await mkdir(join(dir, 'evals', 'task-a'), { recursive: true });
  if (layout === 'eval.yaml') await writeFile(join(dir, 'eval.yaml'), 'version: "1"\ntasks: []\n');
  return dir;
}

describe('skill-first runs', () => {
  it('in a skill folder with no task named: its evals/ with the skill attached', async () => {
    const skill = await skillFolder('evals');
    expect(await skillFirstRun({ tasks: [] }, skill)).toMatchObject({
      tasks: [join(skill, 'evals')],
      skill: [skill],
    });
  });

  it('a skill folder with an eval.yaml is its own task spec (the conversion carries the skill)', async () => {
    const skill = await skillFolder('eval.yaml');
    expect(await skillFirstRun({ tasks: ['.'] }, skill)).toMatchObject({ tasks: [skill], skill: [] });
    expect(await skillFirstRun({ tasks: [], skill: [skill] }, '/')).toMatchObject({ tasks: [skill], skill: [] });
  });

  it('--skill DIR with no task: that skill on its own evals', async () => {
    const skill = await skillFolder('evals');
    expect(await skillFirstRun({ tasks: [], skill: [skill] }, '/')).toMatchObject({
      tasks: [join(skill, 'evals')],
      skill: [skill],
    });
  });

  it('`eval evals` from the skill folder attaches the skill; other tasks are a plain run', async () => {
    const skill = await skillFolder('evals');
    expect(await skillFirstRun({ tasks: ['evals'] }, skill)).toMatchObject({ tasks: ['evals'], skill: [skill] });
    expect(await skillFirstRun({ tasks: [join(skill, 'evals', 'task-a')] }, '/')).toMatchObject({ skill: [skill] });
    expect(await skillFirstRun({ tasks: ['/elsewhere/task'] }, skill)).toBeUndefined();
    expect(await skillFirstRun({ tasks: [] }, await tempDir('not-a-skill'))).toBeUndefined();
  });

  it('a skill folder without evaluation tasks is one clear error pointing at init', async () => {
    const skill = await skillFolder('none');
    await expect(skillFirstRun({ tasks: [] }, skill)).rejects.toThrow(
      expect.objectContaining({
        message: expect.stringContaining('is a skill folder without evaluation tasks: expected an evals/ folder'),
        hint: expect.stringContaining('skill-eval init'),
      }),
    );
  });
});
