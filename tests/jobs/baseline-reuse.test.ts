import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Arm } from '../../src/agents/types.js';
import { analyzeResults } from '../../src/analytics/analyze.js';
import { UsageError } from '../../src/errors.js';
import { type EvalJobOptions, optionsFromJob } from '../../src/jobs/eval-options.js';
import type { EvalNotice } from '../../src/jobs/eval-tasks.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { createLineProgress } from '../../src/jobs/progress.js';
import { type EvalJobOutcome, runEvalJob } from '../../src/jobs/run-eval.js';
import type { TrialResult } from '../../src/results/schema.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from './helpers.js';

/** A copy of the trivial fixture (it has a skill), to edit between jobs. */
async function editableTask(): Promise<string> {
  const dir = join(await tempDir('baseline-task'), 'trivial');
  await cp(join(JOB_FIXTURES, 'trivial'), dir, { recursive: true });
  return dir;
}

interface Run {
  outcome: EvalJobOutcome;
  jobDir: string;
  /** The arm of each trial an agent ran. */
  started: Arm[];
  notices: EvalNotice[];
  /** What `eval` prints, line by line, without a terminal. */
  progress: string[];
}

async function run(options: EvalJobOptions): Promise<Run> {
  const notices: EvalNotice[] = [];
  const started: Arm[] = [];
  const plan = await planEval(options, options.resultsDir, { onNotice: (n) => notices.push(n) });
  const progress: string[] = [];
  const lines = createLineProgress({ quiet: false, redactor: plan.redactor, write: (line) => progress.push(line) });
  const outcome = await runEvalJob(plan, {
    onEvent: (event) => {
      lines(event);
      if (event.type === 'trial-start') started.push(event.arm);
    },
  });
  return { outcome, jobDir: plan.jobDir, started, notices, progress };
}

const noSkills = (outcome: EvalJobOutcome): TrialResult[] =>
  outcome.results.filter((r) => r.arm === 'no-skills').sort((x, y) => x.trial_index - y.trial_index);

const SETTINGS = { passThreshold: 1, includeErrorsAsFailures: false, k: [1] };

describe('eval --baseline-from', () => {
  it('after an edit of only SKILL.md, auto runs only the with-skills trials and reuses the same baseline', async () => {
    const results = await tempDir('baseline-auto');
    const task = await editableTask();
    const options = trivialJobOptions(results, { tasks: [task], compare: true, skills: true, trials: 2 });
    const first = await run(options);
    expect(first.started.sort()).toEqual(['no-skills', 'no-skills', 'with-skills', 'with-skills']);
    const firstBaseline = noSkills(first.outcome);
    expect(firstBaseline[0]?.baseline_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(firstBaseline[0]?.baseline_fields).toMatchObject({
      agent: 'oracle',
      provider: 'local',
      lifecycle_version: 1,
    });
    expect(first.outcome.results.find((r) => r.arm === 'with-skills')?.baseline_fingerprint).toBeUndefined();

    await writeFile(
      join(task, 'skills', 'fixture-skill', 'SKILL.md'),
      '---\nname: fixture-skill\ndescription: edited\n---\nNew advice.\n',
    );
    const second = await run({ ...options, baselineFrom: 'auto' });
    // No agent ran a no-skills trial: each one is the first job's, session log and all.
    expect(second.started).toEqual(['with-skills', 'with-skills']);
    expect(second.jobDir).not.toBe(first.jobDir);
    const firstId = first.outcome.results[0]!.job_id;
    const reused = noSkills(second.outcome);
    expect(reused.map((r) => r.trial_id)).toEqual(firstBaseline.map((r) => r.trial_id));
    for (const result of reused) {
      expect(result.reused_from).toEqual({ job_id: firstId, trial_dir: join(first.jobDir, result.trial_name) });
      expect(result.job_id).toBe(second.outcome.results.find((r) => r.arm === 'with-skills')!.job_id);
      const log = (dir: string): Promise<string> => readFile(join(dir, result.trial_name, 'session.jsonl'), 'utf8');
      expect(await log(second.jobDir)).toBe(await log(first.jobDir));
      const onDisk = JSON.parse(await readFile(join(second.jobDir, result.trial_name, 'result.json'), 'utf8'));
      expect(onDisk.reused_from.job_id).toBe(firstId);
    }
    expect(second.notices).toContainEqual({
      level: 'note',
      message: `baseline: reusing 2 no-skills trials of job ${firstId}`,
    });
    expect(second.progress[0]).toBe('4 trials planned (2 reused from an earlier job)');
    const jobJson = JSON.parse(await readFile(join(second.jobDir, 'job.json'), 'utf8'));
    expect(jobJson.baseline_from).toEqual({ job_id: firstId, dir: first.jobDir });
    // --resume keeps the same source: a reused trial lost since is copied again, not run.
    expect((await optionsFromJob({ ...options, resume: second.jobDir }, results)).baselineFrom).toBe(first.jobDir);
    await rm(join(second.jobDir, reused[1]!.trial_name), { recursive: true });
    const resumed = await run({ ...options, resume: second.jobDir });
    expect(resumed.started).toEqual([]);
    expect(noSkills(resumed.outcome).map((r) => r.reused_from?.job_id)).toEqual([firstId, firstId]);

    const before = await analyzeResults([first.jobDir], SETTINGS);
    const after = await analyzeResults([second.jobDir], SETTINGS);
    expect(after.configs[0]?.tasks[0]?.arms['no-skills']).toEqual(before.configs[0]?.tasks[0]?.arms['no-skills']);
    expect(before.reused).toEqual({ count: 0, byArm: {}, fromJobs: [] });
    expect(after.reused).toEqual({ count: 2, byArm: { 'no-skills': 2 }, fromJobs: [firstId] });
  });

  it('refuses a named source whose test.sh changed, naming the task checksum; auto skips it', async () => {
    const results = await tempDir('baseline-changed');
    const task = await editableTask();
    const options = trivialJobOptions(results, { tasks: [task], compare: true, skills: true, jobName: 'source' });
    await run(options);
    await writeFile(
      join(task, 'tests', 'test.sh'),
      '#!/usr/bin/env bash\nmkdir -p /logs/verifier\necho 1 > /logs/verifier/reward.txt\n',
    );
    const changed = { ...options, jobName: undefined };
    const refused = planEval({ ...changed, baselineFrom: 'source' }, results);
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(
      /job source cannot stand in[\s\S]*trivial: task checksum: expected [0-9a-f]{12}, found [0-9a-f]{12}/,
    );

    const auto = await run({ ...changed, baselineFrom: 'auto' });
    expect(auto.started.sort()).toEqual(['no-skills', 'with-skills']);
    expect(noSkills(auto.outcome)[0]?.reused_from).toBeUndefined();
    expect(auto.notices).toContainEqual({
      level: 'note',
      message: expect.stringMatching(
        /^--baseline-from auto: no earlier job has matching no-skills trials; skipped source \(trivial: task checksum: /,
      ),
    });
  });

  it('never reuses an infrastructure error: that trial runs again, the others are copied', async () => {
    const results = await tempDir('baseline-infra');
    const options = trivialJobOptions(results, { compare: true, skills: true, trials: 2, jobName: 'source' });
    const first = await run(options);
    const [keep, broken] = noSkills(first.outcome);
    const brokenPath = join(first.jobDir, broken!.trial_name, 'result.json');
    const { reward: _reward, ...rest } = JSON.parse(await readFile(brokenPath, 'utf8'));
    await writeFile(brokenPath, JSON.stringify({ ...rest, status: 'infra_error' }));

    const second = await run({ ...options, jobName: 'next', baselineFrom: 'source' });
    expect(second.started.sort()).toEqual(['no-skills', 'with-skills', 'with-skills']);
    const [copied, rerun] = noSkills(second.outcome);
    expect(copied?.trial_id).toBe(keep!.trial_id);
    expect(copied?.reused_from?.job_id).toBe('source');
    expect(rerun?.trial_id).not.toBe(broken!.trial_id);
    expect(rerun?.reused_from).toBeUndefined();
    expect(rerun?.status).toBe('passed');
  });

  it('needs the no-skills arm, and a source that is a job', async () => {
    const results = await tempDir('baseline-usage');
    const withSkillsOnly = trivialJobOptions(results, { skills: true, baselineFrom: 'auto' });
    await expect(planEval(withSkillsOnly, results)).rejects.toThrow(
      '--baseline-from auto reuses no-skills trials, but this job runs only the with-skills arm',
    );
    await expect(planEval(trivialJobOptions(results, { baselineFrom: 'nowhere' }), results)).rejects.toThrow(
      /--baseline-from nowhere: no job at .*nowhere/,
    );
    // A job is never its own baseline: copying its trials onto themselves would lose them.
    const self = trivialJobOptions(results, { jobName: 'self' });
    await run(self);
    await expect(planEval({ ...self, baselineFrom: 'self' }, results)).rejects.toThrow(
      '--baseline-from self: job self is the job being run',
    );
  });
});
