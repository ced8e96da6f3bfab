import type { GraderType } from '../task/types.js';
import { deterministicGrader } from './deterministic.js';
import { llmRubricGrader } from './llm-rubric.js';
import type { Grader } from './types.js';
import { verifierGrader } from './verifier.js';

/** Every grader type task.toml can name (`[[graders]] type = …`). */
export const graders: Record<GraderType, Grader> = {
  verifier: verifierGrader,
  deterministic: deterministicGrader,
  llm_rubric: llmRubricGrader,
};

export function getGrader(type: GraderType): Grader {
  return graders[type];
}
