import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalJobOptions } from '../../src/jobs/eval-options.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import type { TrialResult } from '../../src/results/schema.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from '../jobs/helpers.js';

/** A copy of the trivial job fixture (solve.sh writes solved.txt; test.sh rewards it with 1), free to change. */
export async function copiedTrivialTask(): Promise<string> {
  const dir = join(await tempDir('regrade-task'), 'trivial');
  await cp(join(JOB_FIXTURES, 'trivial'), dir, { recursive: true });
  return dir;
}

/** Runs an eval job of the oracle on `taskDir` and returns its directory. */
export async function runJob(
  taskDir: string,
  resultsDir: string,
  overrides: Partial<EvalJobOptions> = {},
): Promise<string> {
  const options = trivialJobOptions(resultsDir, { tasks: [taskDir], jobName: 'job', ...overrides });
  const plan = await planEval(options, resultsDir);
  await runEvalJob(plan);
  return plan.jobDir;
}

/** test.sh gives `reward` for a solved workdir (0 otherwise), or no reward at all when `reward` is undefined. */
export async function rewriteTests(taskDir: string, reward: string | undefined): Promise<void> {
  const body =
    reward === undefined
      ? 'echo "no reward today"\n'
      : `mkdir -p /logs/verifier\nif [ -f solved.txt ]; then echo ${reward} > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n`;
  await writeFile(join(taskDir, 'tests', 'test.sh'), `#!/usr/bin/env bash\n${body}`);
}

export async function readResult(trialDir: string): Promise<TrialResult> {
  return JSON.parse(await readFile(join(trialDir, 'result.json'), 'utf8')) as TrialResult;
}

/** Every record of a session log. */
export async function sessionRecords(trialDir: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(trialDir, 'session.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
