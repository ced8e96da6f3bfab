import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { parseSkillMd } from '../skills/parse.js';
import { describeValue, displayPath } from '../util/problems.js';
import { isFile, pathKind } from './references.js';
import { type ResolvedEval, resolveEval } from './resolve.js';
import { type EvalDefaults, parseEvalYaml } from './schema.js';
import { type EvalSkill, type PlannedFile, planTaskFiles } from './task-files.js';

/** A converted eval: its task folder name and files. */
export interface ConvertedEval {
  name: string;
  index: number;
  files: PlannedFile[];
}

/** An eval that could not be converted, with every problem it has. */
export interface BrokenEval {
  index: number;
  name?: string | undefined;
  problems: Problem[];
}

export interface LoadedEvalYaml {
  /** Absolute path of eval.yaml. */
  file: string;
  evalDir: string;
  defaults: EvalDefaults;
  converted: ConvertedEval[];
  broken: BrokenEval[];
  /** Problems of the file itself (YAML, version, skill, defaults): when any is an error, nothing converts. */
  problems: Problem[];
  warnings: Problem[];
}

export interface LoadEvalYamlOptions {
  cwd: string;
  /** Never copied with the skill: the output and results directories. */
  excluded?: readonly string[] | undefined;
}

/** `path/to/eval.yaml`, or a folder holding one: the eval.yaml meant, or undefined. */
export async function evalYamlFileOf(path: string): Promise<string | undefined> {
  const kind = await pathKind(path);
  if (kind === 'file') return /\.ya?ml$/i.test(path) ? path : undefined;
  if (kind === 'directory' && (await isFile(join(path, 'eval.yaml'))) && !(await isFile(join(path, 'task.toml'))))
    return join(path, 'eval.yaml');
  return undefined;
}

/** The skill the evals measure: `skill:` (a folder or its SKILL.md), else eval.yaml's folder when it holds SKILL.md. */
async function findSkill(
  value: string | undefined,
  evalDir: string,
  file: string,
  problems: Problem[],
  warnings: Problem[],
): Promise<EvalSkill | undefined> {
  let dir = evalDir;
  if (value !== undefined) {
    const target = resolve(evalDir, value);
    dir = (await pathKind(target)) === 'file' ? dirname(target) : target;
    if (!(await isFile(join(dir, 'SKILL.md')))) {
      problems.push({
        file,
        key: 'skill',
        message: `no SKILL.md in ${dir}`,
        expected: 'a skill folder (holding SKILL.md) or its SKILL.md, relative to eval.yaml',
        found: describeValue(value),
        severity: 'error',
      });
      return undefined;
    }
  } else if (!(await isFile(join(dir, 'SKILL.md')))) {
    warnings.push({
      file,
      key: 'skill',
      message:
        'no SKILL.md next to eval.yaml and no `skill:`; the evals have no skill (with-skills equals the baseline)',
      expected: 'skill: path/to/skill-folder',
      severity: 'warning',
    });
    return undefined;
  }
  const text = await readFile(join(dir, 'SKILL.md'), 'utf8');
  const parsed = parseSkillMd(text, { file: join(dir, 'SKILL.md'), folderName: basename(dir) });
  return { name: parsed.name || basename(dir), dir };
}

/** Reads eval.yaml and converts every eval it can; one broken eval never stops the others. Writes nothing. */
export async function loadEvalYaml(path: string, options: LoadEvalYamlOptions): Promise<LoadedEvalYaml> {
  const absolute = resolve(options.cwd, path);
  const shown = displayPath(absolute, options.cwd);
  const evalDir = dirname(absolute);
  const loaded: LoadedEvalYaml = {
    file: absolute,
    evalDir,
    defaults: {},
    converted: [],
    broken: [],
    problems: [],
    warnings: [],
  };
  let text: string;
  try {
    if (!(await stat(absolute)).isFile()) throw new Error('not a file');
    text = await readFile(absolute, 'utf8');
  } catch {
    loaded.problems.push({
      file: shown,
      message: 'no such file',
      expected: 'an eval.yaml file',
      found: 'nothing readable',
      severity: 'error',
    });
    return loaded;
  }
  const parsed = parseEvalYaml(text, shown);
  loaded.problems.push(...parsed.problems);
  if (!parsed.file) return loaded;
  loaded.defaults = parsed.file.defaults;
  const skill = await findSkill(parsed.file.skill, evalDir, shown, loaded.problems, loaded.warnings);
  if (loaded.problems.length > 0) return loaded;
  const source = {
    fileName: basename(absolute),
    sha256: createHash('sha256').update(text).digest('hex'),
    defaultGraderModel: parsed.file.defaults.grader_model,
  };
  const excluded = [absolute, ...(options.excluded ?? [])];
  for (const entry of parsed.file.evals) {
    if (!entry.ok) {
      loaded.broken.push({ index: entry.index, name: entry.name, problems: entry.problems });
      continue;
    }
    const resolved = await resolveEval(entry.config, entry.index, parsed.file.defaults, { evalDir, file: shown });
    if (!resolved.ok) {
      loaded.broken.push({ index: entry.index, name: entry.config.name, problems: resolved.problems });
      continue;
    }
    loaded.warnings.push(...evalWarnings(resolved.eval, shown));
    const files = await planTaskFiles(resolved.eval, { skill, source, evalDir, excluded });
    loaded.converted.push({ name: resolved.eval.name, index: entry.index, files });
  }
  return loaded;
}

/** What converts but behaves differently here: said once per eval, at conversion. */
function evalWarnings(resolved: ResolvedEval, file: string): Problem[] {
  const warnings: Problem[] = [];
  for (const key of Object.keys(resolved.overrides)) {
    warnings.push({
      file,
      key: `tasks[${resolved.index}].${key}`,
      message: `applies to the whole job here, not to one eval; recorded in task.toml [metadata] and not applied (use --${key === 'grader_model' ? 'grader-model' : key})`,
      severity: 'warning',
    });
  }
  for (const entry of resolved.workspace) {
    if (!entry.dest.startsWith('/') || /^\/(?:usr\/local\/bin|usr\/bin|bin)\/[^/]+$/.test(entry.dest)) continue;
    warnings.push({
      file,
      key: `tasks[${resolved.index}].workspace`,
      message: `absolute destination ${entry.dest}: on the local provider it lands under the trial root, where the agent does not find it by that path (Docker is exact)`,
      expected: 'a relative dest (under /workspace) or /usr/local/bin/<tool>',
      severity: 'warning',
    });
  }
  return warnings;
}
