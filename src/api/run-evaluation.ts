import { availableParallelism } from 'node:os';
import { type EvalOptions, type EvalOutcome, runEval } from '../cli/eval.js';

/** `skill-eval eval`'s options, each defaulting as its flag does. Prints nothing but the problems of broken tasks. */
export type RunEvaluationOptions = Partial<Omit<EvalOptions, 'quiet' | 'json' | 'print' | 'failUnder'>> & {
  /** Base for task specs and resultsDir; process.cwd() by default. */
  cwd?: string | undefined;
};

/**
 * Runs an eval job from TypeScript, as `skill-eval eval` does: plans it (or resumes the same plan), runs every
 * trial, writes the results and reports under `resultsDir`. `exitCode` is what the CLI would exit with
 * (docs/exit-codes.md); errors before any trial (usage, every task broken, no engine, agent not installable)
 * are thrown as SkillEvalError.
 */
export async function runEvaluation(options: RunEvaluationOptions = {}): Promise<EvalOutcome> {
  const { cwd = process.cwd(), ...given } = options;
  const defaults: EvalOptions = {
    tasks: [],
    agent: 'gemini',
    provider: 'docker',
    trials: 5,
    skills: true,
    compare: false,
    resultsDir: 'results',
    env: [],
    concurrency: Math.max(1, Math.min(4, availableParallelism())),
    passThreshold: 1,
    forceBuild: false,
    newJob: false,
    maxRetries: 2,
    quiet: true,
    json: false,
    print: false,
  };
  const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  // No command line to record in job.json and the reports.
  return runEval({ ...defaults, ...defined }, cwd, []);
}
