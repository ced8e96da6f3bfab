import { resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { evalYamlFileOf, loadEvalYaml } from './load.js';
import { writeTaskDirs } from './write.js';

export interface ConvertOptions {
  /** eval.yaml, or a folder holding it. */
  file: string;
  /** Where the task directories go (default `./tasks`). */
  out?: string | undefined;
  force?: boolean | undefined;
}

export interface ConvertOutcome {
  /** The task directories written, in eval order. */
  written: string[];
  /** Errors: of the file (nothing written) or of single evals (the others written). */
  problems: Problem[];
  warnings: Problem[];
}

/** `skill-eval tasks convert`: eval.yaml → one Harbor task directory per eval that converts. */
export async function convertEvalYaml(options: ConvertOptions, cwd: string): Promise<ConvertOutcome> {
  const given = resolve(cwd, options.file);
  const file = (await evalYamlFileOf(given)) ?? given;
  const out = resolve(cwd, options.out ?? 'tasks');
  const loaded = await loadEvalYaml(file, { cwd, excluded: [out] });
  const problems = [...loaded.problems, ...loaded.broken.flatMap((b) => b.problems)];
  if (loaded.problems.some((p) => p.severity === 'error') || loaded.converted.length === 0)
    return { written: [], problems, warnings: loaded.warnings };
  const written = await writeTaskDirs(loaded.converted, out, { force: options.force ?? false });
  return { written, problems, warnings: loaded.warnings };
}
