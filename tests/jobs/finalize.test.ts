import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClaimBook } from '../../src/jobs/claims.js';
import { finalizeJob } from '../../src/jobs/finalize.js';
import { readJobConfig } from '../../src/jobs/job-config.js';
import { plannedTrialNames } from '../../src/jobs/plan.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

describe('finalizeJob', () => {
  it('two workers finishing together write summary and reports once, from the trial dirs, alike', async () => {
    const resultsDir = await tempDir('finalize');
    const plan = await planEval(trivialJobOptions(resultsDir, { trials: 3, jobName: 'fin' }), resultsDir);
    const first = await runEvalJob(plan);
    expect(first.summary.finished).toBe(3);
    // As if the job's last two trials ended in two processes at once, neither having written anything yet.
    await rm(join(plan.jobDir, 'summary.json'));
    for (const path of first.reportPaths) await rm(path);
    const config = (await readJobConfig(plan.jobDir))!;
    const input = {
      jobDir: plan.jobDir,
      jobId: config.job_id,
      resultsDir: plan.resultsDir,
      createdAt: config.created_at,
      commandLine: config.command_line,
      passThreshold: 1,
      planned: 3,
      trials: plannedTrialNames(config),
    };
    const [a, b] = await Promise.all([
      finalizeJob({ ...input, claims: new ClaimBook(plan.jobDir) }),
      finalizeJob({ ...input, claims: new ClaimBook(plan.jobDir) }),
    ]);
    expect([a.written, b.written].sort()).toEqual([false, true]);
    expect(a.summary).toEqual(b.summary);
    expect(a.reportPaths).toEqual(first.reportPaths);
    expect(b.reportPaths).toEqual(first.reportPaths);
    const summary = JSON.parse(await readFile(join(plan.jobDir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ finished: 3, statuses: { passed: 3 }, reports: [expect.any(String)] });
    // Once more with nothing changed: nothing written.
    expect((await finalizeJob({ ...input, claims: new ClaimBook(plan.jobDir) })).written).toBe(false);
  });
});
