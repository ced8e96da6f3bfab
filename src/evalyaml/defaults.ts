import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { evalYamlFileOf } from './load.js';
import { parseEvalYaml } from './schema.js';

/**
 * eval.yaml's `defaults` as defaults of a job: what a flag given on the command line overrides. `timeout` is not
 * here: it is each converted task's `[agent].timeout_sec` already.
 */
export interface EvalYamlJobDefaults {
  agent?: string | undefined;
  provider?: 'docker' | 'local' | undefined;
  trials?: number | undefined;
  /** `threshold`: skillgrade's pass-rate gate (its `--ci`), i.e. our `--fail-under`. */
  failUnder?: number | undefined;
  /** `grader_model`: the default judge model of llm_rubric graders (`--grader-model`). */
  graderModel?: string | undefined;
}

/**
 * The job defaults of the eval.yaml among `specs` (the first one, when several are given); undefined when none is
 * an eval.yaml. A file too broken to read yields undefined too: planning reports its problems.
 */
export async function evalYamlJobDefaults(
  specs: readonly string[],
  cwd: string,
): Promise<EvalYamlJobDefaults | undefined> {
  for (const spec of specs) {
    const file = await evalYamlFileOf(resolve(cwd, spec));
    if (file === undefined) continue;
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const defaults = text === undefined ? undefined : parseEvalYaml(text, file).file?.defaults;
    if (defaults === undefined) return undefined;
    const out: EvalYamlJobDefaults = {};
    if (defaults.agent !== undefined) out.agent = defaults.agent;
    if (defaults.provider !== undefined) out.provider = defaults.provider;
    if (defaults.trials !== undefined) out.trials = defaults.trials;
    if (defaults.threshold !== undefined) out.failUnder = defaults.threshold;
    if (defaults.grader_model !== undefined) out.graderModel = defaults.grader_model;
    return out;
  }
  return undefined;
}
