import { UsageError } from '../errors.js';
import { PROVIDERS } from '../models/providers.js';
import type { Task } from '../task/types.js';
import { resolveJudge, sameFamilyWarning } from './judge.js';
import type { JudgeSettings } from './types.js';

export interface JudgePlan {
  settings: JudgeSettings;
  /** Judge keys in use: redacted wherever persisted. */
  secrets: string[];
  /** One per llm_rubric grader whose judge is of an agent's model family. */
  warnings: string[];
}

/** Only the judge's own variables leave process.env: keys and base URLs of the judge providers. */
function judgeEnv(hostEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const info of Object.values(PROVIDERS)) {
    for (const name of [...info.keyVariables, info.baseUrlVariable]) if (hostEnv[name]) env[name] = hostEnv[name];
  }
  return env;
}

/**
 * Planning: every llm_rubric grader of the job gets a usable judge before any trial runs, or the job stops with
 * one UsageError naming the task, the grader and the missing key.
 */
export function planJudges(
  tasks: readonly Task[],
  agents: ReadonlyArray<{ name: string; model?: string | undefined }>,
  graderModel: string | undefined,
  hostEnv: NodeJS.ProcessEnv,
): JudgePlan {
  const settings: JudgeSettings = { model: graderModel, env: judgeEnv(hostEnv) };
  const secrets = new Set<string>();
  const warnings: string[] = [];
  for (const task of tasks) {
    for (const grader of task.config.graders ?? []) {
      if (grader.type !== 'llm_rubric') continue;
      const resolution = resolveJudge(grader, settings);
      if (!resolution.ok) throw new UsageError(`task ${task.name}: ${resolution.message}`, { hint: resolution.hint });
      if (resolution.judge.apiKey) secrets.add(resolution.judge.apiKey);
      for (const agent of agents) {
        const warning = sameFamilyWarning(agent, resolution.judge);
        if (warning) warnings.push(`task ${task.name}, grader "${grader.name}": ${warning}`);
      }
    }
  }
  return { settings, secrets: [...secrets], warnings };
}
