import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeComparisons } from '../../src/analytics/analyze.js';
import { readNoiseFloor } from '../../src/analytics/noise.js';
import { runEvaluation } from '../../src/api/run-evaluation.js';
import { UsageError } from '../../src/errors.js';
import { armsFor, optionsFromJob } from '../../src/jobs/eval-options.js';
import type { TrialResult } from '../../src/results/schema.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from './helpers.js';

/** Inline: the local provider's sandbox shows the agent its workspace only. */
const AGENT = readFileSync(join(FIXTURES, 'arms', 'agent.sh'), 'utf8');
const VARIANT = join(FIXTURES, 'arms', 'variant', 'answer');
const POOL = join(FIXTURES, 'arms', 'pool');

/** The arms fixture task, run by the command agent of tests/fixtures/arms/agent.sh on the local provider. */
function armsJob(resultsDir: string, arms: string[] | undefined, extra: Parameters<typeof trivialJobOptions>[1] = {}) {
  return trivialJobOptions(resultsDir, {
    tasks: [join(JOB_FIXTURES, 'arms')],
    agent: 'command',
    command: AGENT,
    skills: true,
    arms,
    concurrency: 2,
    ...extra,
  });
}

async function results(jobDir: string): Promise<Map<string, TrialResult & { dir: string }>> {
  const byArm = new Map<string, TrialResult & { dir: string }>();
  for (const entry of await readdir(jobDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(jobDir, entry.name, 'result.json');
    if (!existsSync(file)) continue;
    const result = JSON.parse(await readFile(file, 'utf8')) as TrialResult;
    byArm.set(result.arm, { ...result, dir: join(jobDir, entry.name) });
  }
  return byArm;
}

const settings = { passThreshold: 1, includeErrorsAsFailures: false, k: [1] };

describe('eval --arms (command agent, local provider)', () => {
  it('runs no-skills, with-skills, skill-as-prompt and self-generated; analyze compares each with no-skills', async () => {
    const resultsDir = await tempDir('arms-four');
    const arms = ['no-skills', 'with-skills', 'skill-as-prompt', 'self-generated'];
    const outcome = await runEvaluation(armsJob(resultsDir, arms, { jobName: 'four' }));
    const byArm = await results(outcome.jobDir);
    expect([...byArm.keys()].sort()).toEqual([...arms].sort());
    expect(Object.fromEntries([...byArm].map(([arm, r]) => [arm, r.status]))).toEqual({
      'no-skills': 'failed',
      'with-skills': 'passed',
      'skill-as-prompt': 'passed',
      // It followed the skill it wrote itself (41), not the task's (42).
      'self-generated': 'failed',
    });

    const prompt = byArm.get('skill-as-prompt')!;
    // No skill file anywhere: audited like the baseline, and none reached it.
    expect(prompt.skills).toEqual([]);
    expect(prompt.arm_setup?.prompt_skills?.map((s) => s.name)).toEqual(['answer']);
    expect(prompt.isolation).toMatchObject({ checked: true, contaminated: false });
    expect(prompt.isolation?.scanned.length).toBeGreaterThan(0);
    expect(await readFile(join(prompt.dir, 'session.jsonl'), 'utf8')).toContain('Write 42 to answer.txt.');

    const generated = byArm.get('self-generated')!;
    expect(generated.skills.map((s) => s.name)).toEqual(['self-generated']);
    expect(generated.arm_setup?.self_generated).toMatchObject({
      skill: { name: 'self-generated', description: 'My own guess at the answer.' },
      session_log: 'self-generated/session.jsonl',
    });
    expect(generated.timings.phases.self_generate_ms).toBeGreaterThanOrEqual(0);
    // The writing phase is recorded apart: its own session log and the skill it wrote.
    const writing = await readFile(join(generated.dir, 'self-generated', 'session.jsonl'), 'utf8');
    expect(writing).toContain('First write a skill');
    expect(
      await readFile(join(generated.dir, 'self-generated', 'skill', 'self-generated', 'SKILL.md'), 'utf8'),
    ).toContain('Write 41 to answer.txt.');
    // The solving phase is told the task, nothing of the writing phase.
    const solving = (await readFile(join(generated.dir, 'session.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const told = solving.map((line) => JSON.parse(line)).find((entry) => entry.type === 'instruction');
    expect(told.text).toBe(await readFile(join(JOB_FIXTURES, 'arms', 'instruction.md'), 'utf8'));

    const reports = await analyzeComparisons([outcome.jobDir], settings);
    expect(reports.map((r) => [r.comparison.baseline, r.comparison.treatment])).toEqual([
      ['no-skills', 'with-skills'],
      ['no-skills', 'self-generated'],
      ['no-skills', 'skill-as-prompt'],
    ]);
    expect(reports.map((r) => r.configs[0]!.summary.paired.deltaPp)).toEqual([100, 0, 100]);
    const against = await analyzeComparisons([outcome.jobDir], settings, {
      baseline: 'with-skills',
      treatment: 'skill-as-prompt',
    });
    expect(against).toHaveLength(1);
    expect(against[0]!.configs[0]!.tasks[0]!.arms['with-skills']?.passRate).toBe(1);

    // A resumed job gets its arms back from job.json and runs nothing again.
    const resumed = await optionsFromJob(armsJob(resultsDir, [], { resume: 'four', arms: undefined }), resultsDir);
    expect(armsFor(resumed)).toEqual(arms);
    const again = await runEvaluation({ ...resumed, command: AGENT });
    expect(again.jobDir).toBe(outcome.jobDir);
    expect(again.results.map((r) => r.trial_id).sort()).toEqual(outcome.results.map((r) => r.trial_id).sort());
  });

  it('skill-variant:NAME=DIR replaces the skill (provenance recorded); with-distractors:N draws N pool skills, reproducibly', async () => {
    const resultsDir = await tempDir('arms-variant');
    const variant = `skill-variant:answer=${VARIANT}`;
    const arms = [variant, 'with-distractors:2'];
    const outcome = await runEvaluation(armsJob(resultsDir, arms, { trials: 2, distractorPool: POOL }));
    const job = JSON.parse(await readFile(join(outcome.jobDir, 'job.json'), 'utf8'));
    expect(job.arms).toEqual(arms);
    expect(job.distractor_pool).toBe(POOL);
    expect(job.arm_skills.map((s: { arm: string; name: string }) => `${s.arm}:${s.name}`)).toEqual([
      `${variant}:answer`,
      'distractor-pool:alpha',
      'distractor-pool:bravo',
      'distractor-pool:charlie',
      'distractor-pool:delta',
    ]);
    const dirs = (await readdir(outcome.jobDir)).filter((name) => name.startsWith('arms__'));
    // `:`, `=` and `/` of the arm names never reach a file name.
    for (const dir of dirs) expect(dir).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(dirs).toHaveLength(4);

    const trials = outcome.results;
    const variants = trials.filter((r) => r.arm === variant);
    for (const trial of variants) {
      expect(trial.status).toBe('failed'); // the variant says 43
      expect(trial.skills).toEqual([
        expect.objectContaining({ name: 'answer', source: { kind: 'path', path: VARIANT } }),
      ]);
      expect(trial.arm_setup?.variant).toEqual({ name: 'answer', replaced: true });
    }
    const distracted = trials.filter((r) => r.arm === 'with-distractors:2');
    for (const trial of distracted) {
      expect(trial.status).toBe('passed');
      const names = trial.arm_setup!.distractors!.names;
      expect(names).toHaveLength(2);
      expect(trial.skills.map((s) => s.name).sort()).toEqual(['answer', ...names].sort());
    }
    // The same draw in a new job: seeded by task × arm × trial index.
    const rerun = await runEvaluation(
      armsJob(await tempDir('arms-variant-2'), ['with-distractors:2'], { trials: 2, distractorPool: POOL }),
    );
    const draw = (list: TrialResult[]) =>
      list
        .filter((r) => r.arm === 'with-distractors:2')
        .sort((x, y) => x.trial_index - y.trial_index)
        .map((r) => r.arm_setup?.distractors);
    expect(draw(rerun.results)).toEqual(draw(distracted));
  });

  it('--aa runs the arm twice (with-skills and with-skills~aa); their Δ is noise and feeds --noise-from', async () => {
    const resultsDir = await tempDir('arms-aa');
    const outcome = await runEvaluation(armsJob(resultsDir, undefined, { aa: 'with-skills' }));
    expect(outcome.results.map((r) => r.arm).sort()).toEqual(['with-skills', 'with-skills~aa']);
    const reports = await analyzeComparisons([outcome.jobDir], settings, { baseline: 'with-skills' });
    expect(reports[0]!.comparison).toEqual({ baseline: 'with-skills', treatment: 'with-skills~aa' });
    expect(reports[0]!.configs[0]!.summary.aa).toEqual({ floorPp: 0, pairs: 1, maxPp: 0 });
    expect(await readNoiseFloor([outcome.jobDir], 1)).toEqual({ floorPp: 0, pairs: 1, maxPp: 0 });
  });

  it('refuses what cannot run, before any trial', async () => {
    const resultsDir = await tempDir('arms-refused');
    await expect(runEvaluation(armsJob(resultsDir, ['with-distractors:2']))).rejects.toThrow(
      '--arms with-distractors:2 needs --distractor-pool DIR',
    );
    await expect(runEvaluation(armsJob(resultsDir, ['with-distractors:5'], { distractorPool: POOL }))).rejects.toThrow(
      /arms needs 5 distractors, but the pool has only 4 skills/,
    );
    await expect(runEvaluation(armsJob(resultsDir, ['skill-variant:answer=/nonexistent']))).rejects.toThrow(
      /^--arms skill-variant:answer=\/nonexistent: no such folder/,
    );
    await expect(runEvaluation(armsJob(resultsDir, ['with-skills'], { compare: true }))).rejects.toThrow(UsageError);
    await expect(
      runEvaluation(armsJob(resultsDir, ['with-skills', 'skill-as-prompt'], { baselineFrom: 'auto' })),
    ).rejects.toThrow(/reuses no-skills trials/);
  });
});
