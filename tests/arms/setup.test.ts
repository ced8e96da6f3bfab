import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { armSetup, drawDistractors, drawSeed, promptInstruction } from '../../src/arms/setup.js';
import { InfraError } from '../../src/errors.js';
import type { Skill } from '../../src/skills/types.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { FIXTURES } from '../helpers/trials.js';

function skill(name: string): Skill {
  return {
    name,
    description: `${name} skill`,
    dir: join(FIXTURES, 'arms', 'pool', name),
    layout: 'flag',
    source: { kind: 'path', path: `/pool/${name}` },
    fileCount: 1,
    bytes: 10,
    sha256: name,
    warnings: [],
  };
}

const POOL = ['alpha', 'bravo', 'charlie', 'delta'].map(skill);

async function armsTask(): Promise<Task> {
  return loadTaskOrThrow(join(FIXTURES, 'jobs', 'arms'));
}

describe('armSetup', () => {
  it('gives each arm what it stands for', async () => {
    const task = await armsTask();
    expect(armSetup('no-skills', task, 1)).toEqual({ skills: [], promptSkills: [], selfGenerate: false });
    expect(armSetup('with-skills', task, 1).skills.map((s) => s.name)).toEqual(['answer']);
    expect(armSetup('skill-as-prompt', task, 1)).toMatchObject({ skills: [], promptSkills: [{ name: 'answer' }] });
    expect(armSetup('self-generated', task, 1)).toMatchObject({ skills: [], selfGenerate: true });
    expect(armSetup('with-skills~aa', task, 1).skills.map((s) => s.name)).toEqual(['answer']);
    const variant = { ...skill('answer'), description: 'v2' };
    const resources = { variants: new Map([['skill-variant:answer=./v2', variant]]), pool: POOL };
    expect(armSetup('skill-variant:answer=./v2', task, 1, resources)).toMatchObject({
      skills: [{ description: 'v2' }],
      variant: { name: 'answer', replaced: true },
    });
    expect(() => armSetup('skill-variant:answer=./v3', task, 1, resources)).toThrow(InfraError);
  });

  it('draws distractors besides the task’s skill, the same for the same task × arm × trial and for a replica', async () => {
    const task = await armsTask();
    const resources = { variants: new Map(), pool: [...POOL, skill('answer')] };
    const first = armSetup('with-distractors:2', task, 1, resources);
    expect(first.skills.map((s) => s.name)).toContain('answer');
    expect(first.skills).toHaveLength(3);
    expect(first.distractors?.names).toHaveLength(2);
    expect(first.distractors?.names).not.toContain('answer');
    expect(armSetup('with-distractors:2', task, 1, resources)).toEqual(first);
    expect(armSetup('with-distractors:2~aa', task, 1, resources).distractors).toEqual(first.distractors);
    expect(first.distractors?.seed).toBe(drawSeed('arms', 'with-distractors:2', 1));
    // Over the trials, every pool skill gets drawn: the draw is not stuck.
    const drawn = new Set<string>();
    for (let i = 1; i <= 20; i++)
      for (const name of armSetup('with-distractors:2', task, i, resources).distractors!.names) drawn.add(name);
    expect([...drawn].sort()).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
  });

  it('a pool too small for N is an InfraError naming both numbers', () => {
    expect(() => drawDistractors(POOL, [skill('alpha')], 4, 1)).toThrow(
      "with-distractors:4: the pool has only 3 skills not named like the task's",
    );
    expect(
      drawDistractors(POOL, [], 4, 7)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
  });
});

describe('promptInstruction', () => {
  it('appends each SKILL.md as it is; without skills the instruction stays as it was', async () => {
    const task = await armsTask();
    const text = promptInstruction(task.instruction, task.skills);
    expect(text.startsWith(task.instruction.trimEnd())).toBe(true);
    expect(text).toContain('<skill name="answer">\n---\nname: answer');
    expect(text).toContain('Write 42 to answer.txt.\n</skill>');
    expect(promptInstruction(task.instruction, [])).toBe(task.instruction);
  });
});
