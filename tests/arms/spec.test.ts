import { describe, expect, it } from 'vitest';
import {
  armFileName,
  armSpec,
  isArmName,
  noSkillFiles,
  originalOf,
  parseArm,
  parseArms,
  replicaOf,
} from '../../src/arms/spec.js';
import { UsageError } from '../../src/errors.js';

describe('arm names', () => {
  it('parses every form, with its parameter', () => {
    expect(parseArms('no-skills, with-skills,skill-as-prompt,self-generated')).toEqual([
      { kind: 'no-skills', name: 'no-skills', replica: false },
      { kind: 'with-skills', name: 'with-skills', replica: false },
      { kind: 'skill-as-prompt', name: 'skill-as-prompt', replica: false },
      { kind: 'self-generated', name: 'self-generated', replica: false },
    ]);
    expect(parseArm('skill-variant:pdf=./pdf-v2')).toEqual({
      kind: 'skill-variant',
      name: 'skill-variant:pdf=./pdf-v2',
      replica: false,
      skill: 'pdf',
      dir: './pdf-v2',
    });
    expect(parseArm('with-distractors:5')).toMatchObject({ kind: 'with-distractors', count: 5 });
    expect(parseArm('no-skills~aa')).toEqual({ kind: 'no-skills', name: 'no-skills~aa', replica: true });
    expect(isArmName('with-distractors:3~aa')).toBe(true);
    expect(isArmName('sometimes')).toBe(false);
  });

  it.each([
    ['sometimes', '--arms: unknown arm "sometimes"'],
    ['skill-variant:pdf', '--arms: expected skill-variant:NAME=DIR (NAME a skill name), found "skill-variant:pdf"'],
    ['skill-variant:=dir', /expected skill-variant:NAME=DIR/],
    ['skill-variant:PDF=dir', /expected skill-variant:NAME=DIR/],
    ['with-distractors:0', /with-distractors:N with N a whole number from 1 to 50, found "with-distractors:0"/],
    ['with-distractors:x', /found "with-distractors:x"/],
    ['with-distractors', /found "with-distractors"/],
  ])('%s is a UsageError', (value, message) => {
    expect(() => parseArm(value)).toThrow(UsageError);
    expect(() => parseArm(value)).toThrow(message);
  });

  it('refuses an arm twice, or two whose trial directories would be the same', () => {
    expect(() => parseArms('no-skills,no-skills')).toThrow('--arms: no-skills is given twice');
    expect(() => parseArms('skill-variant:a=x/y,skill-variant:a=x:y')).toThrow(
      '--arms: skill-variant:a=x/y and skill-variant:a=x:y would share the trial directories skill-variant-a-x-y',
    );
    expect(() => parseArms(' , ')).toThrow('--arms: expected at least one arm, found none');
  });

  it('file names keep letters, digits, _ . - only; a replica never shares its original’s', () => {
    expect(armFileName('skill-variant:pdf=../v2')).toBe('skill-variant-pdf-..-v2');
    expect(armFileName('with-distractors:5')).toBe('with-distractors-5');
    expect(armFileName('no-skills~aa')).toBe('no-skills_aa');
    expect(armFileName('no-skills')).toBe('no-skills');
  });

  it('skill-as-prompt is audited like the baseline: no skill file anywhere', () => {
    expect(['no-skills', 'skill-as-prompt', 'no-skills~aa'].map(noSkillFiles)).toEqual([true, true, true]);
    expect(['with-skills', 'self-generated', 'with-distractors:2', 'unknown'].map(noSkillFiles)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(armSpec('nope')).toBeUndefined();
  });

  it('replicas', () => {
    expect(replicaOf('with-skills')).toBe('with-skills~aa');
    expect(originalOf('with-skills~aa')).toBe('with-skills');
    expect(originalOf('with-skills')).toBe('with-skills');
  });
});
