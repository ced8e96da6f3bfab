import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/api/run-evaluation.js';
import { TaskFormatError, UsageError } from '../../src/errors.js';
import type { EvalNotice } from '../../src/jobs/eval-tasks.js';
import { planValidatedEval } from '../../src/jobs/validate-first.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

const CHECK = join(FIXTURES, 'check');

describe('eval --validate: the oracle/nop check first, failing tasks left out', () => {
  it('runs only the tasks that pass the check; the others are reported, counted as broken, exit 2', async () => {
    const resultsDir = await tempDir('validate-first');
    const notices: EvalNotice[] = [];
    const outcome = await runEvaluation({
      tasks: [CHECK],
      agent: 'oracle',
      provider: 'local',
      trials: 1,
      skills: false,
      resultsDir,
      validate: true,
      onNotice: (n) => notices.push(n),
    });
    expect(outcome.results.map((r) => r.task)).toEqual(['healthy']);
    expect(outcome.brokenTasks.sort()).toEqual([join(CHECK, 'broken-solution'), join(CHECK, 'rewards-nothing-done')]);
    expect(outcome.exitCode).toBe(2);
    const errors = notices.filter((n) => n.level === 'error').map((n) => n.message);
    expect(errors).toHaveLength(2);
    expect(errors.find((m) => m.includes('broken-solution'))).toMatch(
      /left out by --validate: oracle did not pass every trial: the solution or the verifier is broken; oracle trial failed, reward 0 .*\(oracle 0\/1 passed, nop 0\/1 passed\)$/,
    );
    expect(errors.find((m) => m.includes('rewards-nothing-done'))).toMatch(
      /left out by --validate: nop passed: the verifier rewards the untouched environment/,
    );
    // The check is a job of its own, under <results>/checks; the eval's job is apart.
    expect(await readdir(join(resultsDir, 'checks', 'jobs'))).toHaveLength(1);
    expect(await readdir(join(resultsDir, 'jobs'))).toHaveLength(1);
  });

  it('no task passing the check is a TaskFormatError before the job; --validate with --resume is a UsageError', async () => {
    const resultsDir = await tempDir('validate-none');
    const none = await planValidatedEval(
      trivialJobOptions(resultsDir, { tasks: [join(CHECK, 'broken-solution')], validate: true }),
      resultsDir,
    ).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(TaskFormatError);
    expect((none as TaskFormatError).hint).toMatch(/^--validate: no task passed the oracle\/nop check/);
    await expect(readdir(join(resultsDir, 'jobs'))).rejects.toThrow(/ENOENT/);
    const resumed = await planValidatedEval(
      trivialJobOptions(resultsDir, { validate: true, resume: 'some-job' }),
      resultsDir,
    ).catch((e: unknown) => e);
    expect(resumed).toBeInstanceOf(UsageError);
    expect((resumed as UsageError).message).toBe(
      '--validate cannot be combined with --resume: a resumed job keeps its tasks',
    );
  });
});
