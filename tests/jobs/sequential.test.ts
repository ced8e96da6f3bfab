import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { EvalJobOptions } from '../../src/jobs/eval-options.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { sequentialFromFlags } from '../../src/jobs/sequential.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from './helpers.js';

/** `eval skill-decides --compare --trials auto --max-trials 20`: the oracle solves it only with the skill installed. */
function autoOptions(resultsDir: string, overrides: Partial<EvalJobOptions> = {}): EvalJobOptions {
  return trivialJobOptions(resultsDir, {
    tasks: [join(JOB_FIXTURES, 'skill-decides')],
    compare: true,
    skills: true,
    concurrency: 2,
    ...sequentialFromFlags({ trials: 'auto', maxTrials: 20 }),
    ...overrides,
  });
}

describe('sequentialFromFlags', () => {
  it('turns --trials auto into the most trials and the rule, and refuses its flags without it', () => {
    expect(sequentialFromFlags({ trials: 'auto' })).toEqual({
      trials: 20,
      sequential: { maxTrials: 20, alpha: 0.05, ciWidth: undefined },
    });
    expect(sequentialFromFlags({ trials: 'auto', maxTrials: 8, alpha: 0.01, ciWidth: 0.3 })).toEqual({
      trials: 8,
      sequential: { maxTrials: 8, alpha: 0.01, ciWidth: 0.3 },
    });
    expect(sequentialFromFlags({ trials: 5 })).toEqual({ trials: 5 });
    expect(() => sequentialFromFlags({ trials: 5, maxTrials: 9 })).toThrow(
      '--max-trials is only for --trials auto, but --trials is 5',
    );
  });
});

describe('eval --trials auto', () => {
  it('refuses to decide between arms with one arm, unless an interval width is the target', async () => {
    const results = await tempDir('sequential-one-arm');
    const oneArm = autoOptions(results, { compare: false, skills: false });
    await expect(planEval(oneArm, results)).rejects.toThrow(UsageError);
    const widthPlan = await planEval({ ...oneArm, sequential: { ...oneArm.sequential!, ciWidth: 0.5 } }, results);
    expect(widthPlan.config.sequential).toMatchObject({ ci_width: 0.5, max_trials: 20 });
  });

  it('stops well before --max-trials when the arms differ strongly, and a cancelled job resumes from disk', async () => {
    const results = await tempDir('sequential-job');
    const controller = new AbortController();
    let ran = 0;
    const first = await runEvalJob(await planEval(autoOptions(results), results), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'trial-end' && !event.resumed && ++ran === 5) controller.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    const kept = first.results.filter((r) => r.status === 'passed' || r.status === 'failed').length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(12);
    const jobId = first.summary.job_id;
    const jobDir = join(results, 'jobs', jobId);
    expect(JSON.parse(await readFile(join(jobDir, 'job.json'), 'utf8'))).toMatchObject({
      trials: 20,
      sequential: { method: 'kt-discordant-pairs-calibrated', alpha: 0.05, max_trials: 20, round: 2 },
    });

    // The resumed job takes its rule from job.json, replays the decisions from the trials on disk and goes on.
    let resumed = 0;
    const plan = await planEval(trivialJobOptions(results, { resume: jobId }), results);
    expect(plan.options.sequential).toMatchObject({ maxTrials: 20, alpha: 0.05 });
    const second = await runEvalJob(plan, {
      onEvent: (event) => {
        if (event.type === 'trial-end' && event.resumed) resumed += 1;
      },
    });
    expect(second.cancelled).toBe(false);
    expect(resumed).toBe(kept);
    // 6 discordant pairs reach the calibrated threshold (e ≥ 9.5 for 20 pairs); the rule looks every 2 trials per arm.
    expect(second.summary.sequential?.tasks).toEqual([
      expect.objectContaining({ task: 'skill-decides', reason: 'decided', direction: 'with-skills', trials: 6 }),
    ]);
    expect(second.summary.cells.map((c) => [c.arm, c.passed, c.trials])).toEqual(
      expect.arrayContaining([
        ['with-skills', 6, 6],
        ['no-skills', 0, 6],
      ]),
    );
    const summary = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8'));
    expect(summary.sequential).toMatchObject({ complete: true, tasks: [{ reason: 'decided', trials: 6 }] });
    expect(summary.reports).toHaveLength(2);

    // Finished, though short of 20 trials per arm: the same plan starts a new job instead of resuming this one.
    const again = await planEval(autoOptions(results), results);
    expect(again.resumed).toBe(false);
  }, 60_000);
});
