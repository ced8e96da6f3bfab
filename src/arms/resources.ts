import { UsageError } from '../errors.js';
import { type FlagSkills, type ResolveSkillsOptions, resolveFlagSkills } from '../skills/sources.js';
import type { Skill } from '../skills/types.js';
import type { Task } from '../task/types.js';
import type { ArmResources } from './setup.js';
import type { ArmSpec } from './spec.js';

/** job.json's record of what the arms were given: a changed variant or pool refuses a resume. */
export interface ArmSkillsRecord {
  arm: string;
  name: string;
  sha256: string;
}

export interface ResolvedArmResources {
  resources: ArmResources;
  /** `--distractor-pool`, canonical (absolute for a folder). */
  pool?: string | undefined;
  record: ArmSkillsRecord[];
  notices: FlagSkills['notices'];
}

/** A `--skill`-worded error, reworded for the flag that gave the value. */
async function resolveAs(flag: string, value: string, options: ResolveSkillsOptions): Promise<FlagSkills> {
  try {
    return await resolveFlagSkills([value], options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(error.message.replace(/^--skill \S+?:(?=\s)/, `${flag}:`), { cause: error, hint: error.hint });
  }
}

/**
 * Before any trial: each `skill-variant:NAME=DIR`'s skill (DIR is anything `--skill` takes: a folder, a git URL,
 * ORG/NAME) and `--distractor-pool`'s skills, loaded, staged and validated like `--skill` (src/skills/sources.ts),
 * and every task checked to have enough pool skills besides its own.
 */
export async function resolveArmResources(
  arms: readonly ArmSpec[],
  tasks: readonly Task[],
  distractorPool: string | undefined,
  options: ResolveSkillsOptions & { notify?: ((notice: FlagSkills['notices'][number]) => void) | undefined },
): Promise<ResolvedArmResources> {
  const resolved = await resolveAll(arms, tasks, distractorPool, options);
  for (const notice of resolved.notices) options.notify?.(notice);
  return resolved;
}

async function resolveAll(
  arms: readonly ArmSpec[],
  tasks: readonly Task[],
  distractorPool: string | undefined,
  options: ResolveSkillsOptions,
): Promise<ResolvedArmResources> {
  const variants = new Map<string, Skill>();
  const record: ArmSkillsRecord[] = [];
  const notices: FlagSkills['notices'] = [];
  for (const arm of arms) {
    if (arm.kind !== 'skill-variant' || arm.replica) continue;
    const resolved = await resolveAs(`--arms ${arm.name}`, arm.dir, options);
    notices.push(...resolved.notices);
    if (resolved.skills.length !== 1)
      throw new UsageError(
        `--arms ${arm.name}: expected one skill in ${arm.dir}, found ${resolved.skills.length} (${resolved.skills.map((s) => s.skill.name).join(', ')})`,
        { hint: 'point DIR at the skill folder itself (the one holding SKILL.md)' },
      );
    const skill = resolved.skills[0]!.skill;
    if (skill.name !== arm.skill)
      notices.push({
        level: 'warning',
        message: `${arm.name}: the skill in ${arm.dir} is named ${skill.name}, not ${arm.skill}; it replaces ${arm.skill} under its own name`,
      });
    for (const task of tasks.filter((t) => !t.skills.some((s) => s.name === arm.skill)))
      notices.push({
        level: 'warning',
        message: `${task.name} has no skill ${arm.skill}: its ${arm.name} arm adds the variant to the task's skills`,
      });
    variants.set(arm.name, skill);
    record.push({ arm: arm.name, name: skill.name, sha256: skill.sha256 });
  }
  const wanted = Math.max(0, ...arms.map((arm) => (arm.kind === 'with-distractors' ? arm.count : 0)));
  if (wanted === 0) {
    if (distractorPool !== undefined)
      throw new UsageError('--distractor-pool is only for a with-distractors:N arm', {
        hint: 'add --arms …,with-distractors:N, or drop --distractor-pool',
      });
    return { resources: { variants, pool: [] }, record, notices };
  }
  if (distractorPool === undefined)
    throw new UsageError(`--arms with-distractors:${wanted} needs --distractor-pool DIR`, {
      hint: 'DIR: a folder of skill folders (or a git URL / ORG/NAME of one) the distractors are drawn from',
    });
  const pool = await resolveAs('--distractor-pool', distractorPool, options);
  notices.push(...pool.notices);
  for (const task of tasks) {
    const available = pool.skills.filter((s) => !task.skills.some((own) => own.name === s.skill.name)).length;
    if (available < wanted)
      throw new UsageError(
        `--distractor-pool ${distractorPool}: ${task.name} needs ${wanted} distractors, but the pool has only ${available} skills not named like its own`,
        { hint: `add skills to the pool, or lower N in with-distractors:${wanted}` },
      );
  }
  for (const { skill } of pool.skills) record.push({ arm: 'distractor-pool', name: skill.name, sha256: skill.sha256 });
  return {
    resources: { variants, pool: pool.skills.map((s) => s.skill) },
    pool: pool.specs[0],
    record,
    notices,
  };
}
