import { join } from 'node:path';
import type { Problem } from '../errors.js';
import { type LoadedEvalYaml, loadEvalYaml } from './load.js';
import { convertIntoCache } from './write.js';

/** Where `eval` keeps converted eval.yaml files: `<results-dir>/.converted/<digest>/<eval name>/`. */
function convertedCacheDir(resultsDir: string): string {
  return join(resultsDir, '.converted');
}

export interface EvalYamlExpansion {
  cwd: string;
  /** The results directory: the cache lives in it, and it is never copied with the skill. */
  resultsDir: string;
  /** An eval (or the whole file) that did not convert, with its errors. */
  onBroken: (where: string, problems: Problem[]) => void;
  onWarning: (problem: Problem) => void;
  /** Each file as loaded, for callers that want its defaults. */
  onLoaded?: ((loaded: LoadedEvalYaml) => void) | undefined;
}

/** The `evalYaml` hook of expandTaskSpecs: converts into the cache and returns the task directories. */
export function evalYamlExpander(options: EvalYamlExpansion): (file: string) => Promise<string[]> {
  return async (file) => {
    const loaded = await loadEvalYaml(file, { cwd: options.cwd, excluded: [options.resultsDir] });
    options.onLoaded?.(loaded);
    const fileErrors = loaded.problems.filter((p) => p.severity === 'error');
    if (fileErrors.length > 0) {
      options.onBroken(loaded.file, fileErrors);
      return [];
    }
    for (const warning of loaded.warnings) options.onWarning(warning);
    for (const broken of loaded.broken)
      options.onBroken(
        `${loaded.file}#tasks[${broken.index}]${broken.name ? ` (${broken.name})` : ''}`,
        broken.problems,
      );
    if (loaded.converted.length === 0) return [];
    return convertIntoCache(loaded.converted, convertedCacheDir(options.resultsDir));
  };
}
