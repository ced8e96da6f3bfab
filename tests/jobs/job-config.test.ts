import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffJobConfig, findResumableJob, type JobConfig } from '../../src/jobs/job-config.js';
import { tempDir } from '../helpers/trials.js';

const plan: JobConfig = {
  job_id: 'nightly',
  created_at: '2026-11-24T19:30:00.000Z',
  command_line: ['eval', 'quick-a'],
  tasks: [{ name: 'quick-a', dir: '/tasks/quick-a', checksum: 'a'.repeat(64) }],
  agents: [{ name: 'oracle' }],
  arms: ['with-skills'],
  trials: 2,
  provider: 'local',
  pass_threshold: 1,
};

async function writeJob(
  jobsDir: string,
  options: { results: string[]; summaryFinished?: number; reports?: string[] },
): Promise<string> {
  const jobDir = join(jobsDir, plan.job_id);
  await mkdir(jobDir, { recursive: true });
  await writeFile(join(jobDir, 'job.json'), JSON.stringify(plan));
  for (const [i, status] of options.results.entries()) {
    await mkdir(join(jobDir, `quick-a__oracle__with-skills__${i + 1}`), { recursive: true });
    await writeFile(join(jobDir, `quick-a__oracle__with-skills__${i + 1}`, 'result.json'), JSON.stringify({ status }));
  }
  if (options.summaryFinished !== undefined)
    await writeFile(
      join(jobDir, 'summary.json'),
      JSON.stringify({ job_id: plan.job_id, planned: 2, finished: options.summaryFinished, reports: options.reports }),
    );
  return jobDir;
}

describe('findResumableJob', () => {
  it('resumes a job with trials left, or with an infrastructure error to retry', async () => {
    const partial = await tempDir('resumable-partial');
    expect(await findResumableJob(partial, plan)).toBeUndefined();
    const dir = await writeJob(partial, { results: ['passed'], summaryFinished: 1 });
    expect(await findResumableJob(partial, plan)).toBe(dir);
    const infra = await tempDir('resumable-infra');
    expect(await findResumableJob(infra, plan)).toBeUndefined();
    const infraDir = await writeJob(infra, { results: ['passed', 'infra_error'], summaryFinished: 2 });
    expect(await findResumableJob(infra, plan)).toBe(infraDir);
  });

  it('leaves a finished job alone, but resumes one whose run was killed after its last trial, before the summary caught up or the reports were written', async () => {
    const done = await tempDir('resumable-done');
    await writeJob(done, {
      results: ['passed', 'failed'],
      summaryFinished: 2,
      reports: ['../../quick-a_2026-11-24T19-30-00Z.json'],
    });
    expect(await findResumableJob(done, plan)).toBeUndefined();
    // The summary counts every trial but lists no reports: killed before writing them.
    const unreported = await tempDir('resumable-unreported');
    const unreportedDir = await writeJob(unreported, { results: ['passed', 'failed'], summaryFinished: 2 });
    expect(await findResumableJob(unreported, plan)).toBe(unreportedDir);
    // Every result.json is there, but summary.json still counts one trial (or was never written).
    const lagging = await tempDir('resumable-lagging');
    const laggingDir = await writeJob(lagging, { results: ['passed', 'failed'], summaryFinished: 1 });
    expect(await findResumableJob(lagging, plan)).toBe(laggingDir);
    const missing = await tempDir('resumable-missing');
    const missingDir = await writeJob(missing, { results: ['passed', 'failed'] });
    expect(await findResumableJob(missing, plan)).toBe(missingDir);
    // Another plan never picks it up.
    expect(await findResumableJob(lagging, { ...plan, trials: 3 })).toBeUndefined();
  });
});

describe('diffJobConfig', () => {
  it('names each --skill skill added, removed or changed; a job from before --skill equals one without', () => {
    const skills = (entries: Array<[string, string]>): JobConfig => ({
      ...plan,
      skill_specs: ['/skills'],
      skills: entries.map(([name, digit]) => ({ name, sha256: digit.repeat(64) })),
    });
    expect(diffJobConfig(plan, { ...plan, skill_specs: [], skills: [] })).toEqual([]);
    expect(diffJobConfig(skills([['pdf', 'a']]), skills([['pdf', 'a']]))).toEqual([]);
    expect(
      diffJobConfig(
        skills([
          ['csv', 'c'],
          ['pdf', 'a'],
        ]),
        skills([
          ['lint', 'd'],
          ['pdf', 'b'],
        ]),
      ),
    ).toEqual([
      '--skill skill lint added',
      `--skill skill pdf changed (sha256 ${'a'.repeat(12)} → ${'b'.repeat(12)})`,
      '--skill skill csv removed',
    ]);
  });
});
