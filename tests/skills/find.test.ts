import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSkillDir } from '../../src/skills/find.js';
import { tempDir } from '../helpers/trials.js';

describe('findSkillDir', () => {
  it('the folder itself when it holds SKILL.md, the skill of an evals folder above it, else undefined', async () => {
    const root = await tempDir('find-skill');
    const skill = join(root, 'my-skill');
    const task = join(skill, 'evals', 'first-task', 'tests');
    await mkdir(task, { recursive: true });
    await mkdir(join(skill, 'scripts'), { recursive: true });
    await writeFile(join(skill, 'SKILL.md'), '---\nname: my-skill\ndescription: d\n---\n');
    expect(await findSkillDir(skill)).toBe(skill);
    expect(await findSkillDir(join(skill, 'evals'))).toBe(skill);
    expect(await findSkillDir(task)).toBe(skill);
    // Elsewhere in the skill, or outside it: not a skill-first run.
    expect(await findSkillDir(join(skill, 'scripts'))).toBeUndefined();
    expect(await findSkillDir(root)).toBeUndefined();
  });
});
