import type { Grader, GraderOutcome, GradingContext } from './types.js';

/** tests/test.sh → /logs/verifier/reward.*: already run and read by the lifecycle's verify phase. */
export const verifierGrader: Grader = {
  type: 'verifier',
  stage: 0,
  async grade(_spec, context: GradingContext): Promise<GraderOutcome> {
    const verifier = context.verifier;
    if (!verifier) return { error: 'the verifier did not run' };
    if (verifier.reward === undefined) return { error: verifier.error ?? 'the verifier wrote no reward' };
    // A reward outside 0..1 is the verifier's own business (it was always taken as written).
    return { score: verifier.reward };
  },
};
