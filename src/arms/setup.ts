import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../errors.js';
import { SKILL_FILE } from '../skills/discover.js';
import type { Skill } from '../skills/types.js';
import type { Task } from '../task/types.js';
import { mulberry32 } from '../util/random.js';
import { type Arm, armSpec, originalOf } from './spec.js';

/** What planning resolved for the arms that need more than the task: variant skills and the distractor pool. */
export interface ArmResources {
  /** `skill-variant:NAME=DIR` arm → the skill in DIR (provenance `path`, staged like `--skill`). */
  variants: ReadonlyMap<Arm, Skill>;
  /** `--distractor-pool DIR`: the skills `with-distractors:N` draws from, in name order. */
  pool: readonly Skill[];
}

export const NO_RESOURCES: ArmResources = { variants: new Map(), pool: [] };

/** What one trial of an arm is given, decided before it starts (result.json's `arm_setup` records it). */
export interface ArmSetup {
  /** Skill folders placed where the agent looks. */
  skills: Skill[];
  /** skill-as-prompt: the skills whose SKILL.md text is appended to the instruction (no skill file anywhere). */
  promptSkills: Skill[];
  /** self-generated: the agent writes its own skill first (src/trial/phases/self-generate.ts). */
  selfGenerate: boolean;
  /** with-distractors:N: the seed of the draw and the pool skills drawn, in the order drawn. */
  distractors?: { seed: number; names: string[] } | undefined;
  /** skill-variant: the task skill replaced (false: the task had none of that name, so the variant was added). */
  variant?: { name: string; replaced: boolean } | undefined;
}

/**
 * The setup of trial `trialIndex` of `task` in `arm`. Distractors are drawn from the pool without the task's own
 * skills, seeded by task × arm × trial index: the same job (and a resumed one, or a rerun) draws the same ones.
 */
export function armSetup(arm: Arm, task: Task, trialIndex: number, resources: ArmResources = NO_RESOURCES): ArmSetup {
  const spec = armSpec(arm);
  const none: ArmSetup = { skills: [], promptSkills: [], selfGenerate: false };
  switch (spec?.kind) {
    case 'with-skills':
      return { ...none, skills: task.skills };
    case 'skill-as-prompt':
      return { ...none, promptSkills: task.skills };
    case 'self-generated':
      return { ...none, selfGenerate: true };
    case 'skill-variant': {
      const variant = resources.variants.get(originalOf(arm));
      if (!variant) throw new InfraError(`arm ${arm}: its skill was not resolved at planning`);
      const replaced = task.skills.some((skill) => skill.name === spec.skill);
      const others = task.skills.filter((skill) => skill.name !== spec.skill && skill.name !== variant.name);
      return { ...none, skills: [...others, variant].sort(byName), variant: { name: spec.skill, replaced } };
    }
    case 'with-distractors': {
      // An A/A replica draws what its original draws: the two differ by noise alone.
      const seed = drawSeed(task.name, originalOf(arm), trialIndex);
      const drawn = drawDistractors(resources.pool, task.skills, spec.count, seed);
      return {
        ...none,
        skills: [...task.skills, ...drawn].sort(byName),
        distractors: { seed, names: drawn.map((s) => s.name) },
      };
    }
    default:
      return none;
  }
}

function byName(x: Skill, y: Skill): number {
  return x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
}

export function drawSeed(task: string, arm: Arm, trialIndex: number): number {
  return createHash('sha256').update(`${task}\u0000${arm}\u0000${trialIndex}`).digest().readUInt32BE(0);
}

/** `count` pool skills not named like one of the task's, by a seeded partial Fisher–Yates shuffle. */
export function drawDistractors(pool: readonly Skill[], own: readonly Skill[], count: number, seed: number): Skill[] {
  const taken = new Set(own.map((skill) => skill.name));
  const candidates = pool.filter((skill) => !taken.has(skill.name)).sort(byName);
  if (candidates.length < count)
    throw new InfraError(
      `with-distractors:${count}: the pool has only ${candidates.length} skills not named like the task's`,
    );
  const random = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  return candidates.slice(0, count);
}

/**
 * skill-as-prompt: the instruction, then each skill's SKILL.md text as it is (frontmatter included), so the
 * agent gets the same words a skill would give it, only not packaged as a skill.
 */
export function promptInstruction(instruction: string, skills: readonly Skill[]): string {
  if (skills.length === 0) return instruction;
  const blocks = skills.map(
    (skill) => `<skill name="${skill.name}">\n${readFileSync(join(skill.dir, SKILL_FILE), 'utf8').trim()}\n</skill>`,
  );
  return `${instruction.trimEnd()}\n\n---\n\nGuidance that may help with this task:\n\n${blocks.join('\n\n')}\n`;
}
