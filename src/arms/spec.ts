import { UsageError } from '../errors.js';

/**
 * An arm is what a trial is given besides the task (docs/results.md "Arms"). Its name is what job.json, result.json
 * and `analyze` show; the forms with a parameter carry it in the name (`skill-variant:pdf=./pdf-v2`,
 * `with-distractors:5`), and an A/A replica (`eval --aa`) is its arm's name with `~aa`.
 */
export type Arm = string;

export const SIMPLE_ARMS = ['no-skills', 'with-skills', 'skill-as-prompt', 'self-generated'] as const;
export const AA_SUFFIX = '~aa';

export type ArmSpec =
  | { kind: 'no-skills' | 'with-skills' | 'skill-as-prompt' | 'self-generated'; name: Arm; replica: boolean }
  | { kind: 'skill-variant'; name: Arm; replica: boolean; skill: string; dir: string }
  | { kind: 'with-distractors'; name: Arm; replica: boolean; count: number };

const SKILL_NAME = /^[a-z0-9][a-z0-9-]*$/;
export const MAX_DISTRACTORS = 50;

const ARM_HINT =
  'arms: no-skills, with-skills, skill-as-prompt, self-generated, skill-variant:NAME=DIR, with-distractors:N';

/** Parses one arm name; undefined when it is none (parseArm says why). */
export function armSpec(name: string): ArmSpec | undefined {
  try {
    return parseArm(name);
  } catch {
    return undefined;
  }
}

export function isArmName(name: string): boolean {
  return armSpec(name) !== undefined;
}

/** One `--arms` entry → its spec; a UsageError naming what was expected otherwise. */
export function parseArm(value: string): ArmSpec {
  const name = value.trim();
  const replica = name.endsWith(AA_SUFFIX);
  const base = replica ? name.slice(0, -AA_SUFFIX.length) : name;
  if ((SIMPLE_ARMS as readonly string[]).includes(base))
    return { kind: base as (typeof SIMPLE_ARMS)[number], name, replica };
  const colon = base.indexOf(':');
  const kind = colon < 0 ? base : base.slice(0, colon);
  const parameter = colon < 0 ? '' : base.slice(colon + 1);
  if (kind === 'skill-variant') {
    const eq = parameter.indexOf('=');
    const skill = parameter.slice(0, eq).trim();
    const dir = parameter.slice(eq + 1).trim();
    if (eq <= 0 || dir === '' || !SKILL_NAME.test(skill))
      throw new UsageError(`--arms: expected skill-variant:NAME=DIR (NAME a skill name), found "${name}"`, {
        hint: 'e.g. skill-variant:pdf=./pdf-v2 replaces the task skill pdf with the skill in ./pdf-v2',
      });
    return { kind, name, replica, skill, dir };
  }
  if (kind === 'with-distractors') {
    const count = Number(parameter);
    if (!Number.isInteger(count) || count < 1 || count > MAX_DISTRACTORS)
      throw new UsageError(
        `--arms: expected with-distractors:N with N a whole number from 1 to ${MAX_DISTRACTORS}, found "${name}"`,
        { hint: 'e.g. with-distractors:5 (with --distractor-pool DIR: where the 5 other skills come from)' },
      );
    return { kind, name, replica, count };
  }
  throw new UsageError(`--arms: unknown arm "${name}"`, { hint: ARM_HINT });
}

/** `--arms a,b,c` → specs, each once. Commas inside a DIR are not supported (a DIR is a path). */
export function parseArms(value: string): ArmSpec[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new UsageError('--arms: expected at least one arm, found none', { hint: ARM_HINT });
  const specs = entries.map(parseArm);
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const file = armFileName(spec.name);
    const earlier = seen.get(file);
    if (earlier === spec.name) throw new UsageError(`--arms: ${spec.name} is given twice`);
    if (earlier !== undefined)
      throw new UsageError(`--arms: ${earlier} and ${spec.name} would share the trial directories ${file}`, {
        hint: 'give one of the DIRs another spelling',
      });
    seen.set(file, spec.name);
  }
  return specs;
}

/**
 * Arms in which no skill file may be anywhere the agent could find one: the isolation audit searches the
 * environment as it does for the baseline (skill-as-prompt gets the skill's text in its instruction only).
 */
export function noSkillFiles(arm: Arm): boolean {
  const kind = armSpec(arm)?.kind;
  return kind === 'no-skills' || kind === 'skill-as-prompt';
}

/** The arm has skill folders placed where the agent looks (the funnel and the presence audit apply). */
export function placesSkills(arm: Arm): boolean {
  return !noSkillFiles(arm);
}

/** The A/A replica of an arm (`eval --aa`), and back. */
export function replicaOf(arm: Arm): Arm {
  return `${arm}${AA_SUFFIX}`;
}

export function originalOf(arm: Arm): Arm {
  return arm.endsWith(AA_SUFFIX) ? arm.slice(0, -AA_SUFFIX.length) : arm;
}

/**
 * The arm in a file name (trial directories): `skill-variant:pdf=./v2` → `skill-variant-pdf-.-v2`. Letters,
 * digits, `_`, `.`, `-` only; `~` (an A/A replica) becomes `_aa`, so a replica never shares its original's name.
 */
export function armFileName(arm: Arm): string {
  return arm.replace(/~/g, '_').replace(/[^A-Za-z0-9_.-]+/g, '-');
}
