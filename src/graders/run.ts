import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, InfraError, InterruptedError } from '../errors.js';
import type { GraderSpec, Task } from '../task/types.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { getGrader } from './registry.js';
import type { GraderOutcome, GraderResult, GradingContext } from './types.js';

/** The implicit grader of a task without [[graders]]: the verifier, weight 1 (results read as before). */
export const IMPLICIT_VERIFIER: GraderSpec = { type: 'verifier', name: 'tests', weight: 1 };

/** The task's graders, as written; the implicit verifier when it has none. */
export function taskGraders(task: Task): GraderSpec[] {
  return task.config.graders ?? [IMPLICIT_VERIFIER];
}

export function hasVerifierGrader(task: Task): boolean {
  return taskGraders(task).some((grader) => grader.type === 'verifier');
}

export function needsWorkspaceDiff(task: Task): boolean {
  return taskGraders(task).some((grader) => grader.type === 'llm_rubric');
}

/** The graders' lines before any ran (a trial that ended early): no score, no error. */
export function ungraded(task: Task): GraderResult[] {
  return taskGraders(task).map(({ name, type, weight }) => ({ name, type, weight }));
}

/**
 * Runs every grader of the task, stage by stage (verifier, then deterministic scripts, then judges, which see
 * the earlier results), each in task.toml order; returns one line per grader in task.toml order. A grader that
 * throws gets that as its error; a cancel is rethrown.
 */
export async function gradeTrial(context: Omit<GradingContext, 'earlier'>): Promise<GraderResult[]> {
  const specs = taskGraders(context.task);
  // Kept for the record (and for grading again later): what the judge was told the agent changed.
  if (context.diff) {
    mkdirSync(join(context.trialDir, 'graders'), { recursive: true });
    writeJsonAtomicSync(
      join(context.trialDir, 'graders', 'workspace-diff.json'),
      context.redactor.redactValue(context.diff),
    );
  }
  const results = new Map<string, GraderResult>();
  const stages = [...new Set(specs.map((spec) => getGrader(spec.type).stage))].sort((a, b) => a - b);
  for (const stage of stages) {
    for (const spec of specs.filter((s) => getGrader(s.type).stage === stage)) {
      if (context.signal?.aborted) throw new InterruptedError('trial cancelled');
      const started = performance.now();
      const earlier = specs.flatMap((s) => results.get(s.name) ?? []);
      let outcome: GraderOutcome;
      try {
        outcome = await getGrader(spec.type).grade(spec, { ...context, earlier });
      } catch (error) {
        // The environment failing under a grader is the trial's infrastructure error, not the grader's verdict.
        if (error instanceof InterruptedError || error instanceof InfraError || context.signal?.aborted) throw error;
        outcome = { error: errorMessage(error) };
      }
      const durationMs =
        spec.type === 'verifier' ? (context.verifier?.durationMs ?? 0) : Math.round(performance.now() - started);
      const result: GraderResult = {
        name: spec.name,
        type: spec.type,
        weight: spec.weight,
        ...outcome,
        duration_ms: durationMs,
      };
      results.set(spec.name, result);
      // The implicit verifier is already in the log (its `verifier` and `reward` lines), as it always was.
      if (context.task.config.graders !== undefined)
        context.log.record({
          type: 'grader',
          name: spec.name,
          grader: spec.type,
          score: result.score,
          error: result.error,
          durationMs,
        });
    }
  }
  return specs.map((spec) => results.get(spec.name)!);
}
