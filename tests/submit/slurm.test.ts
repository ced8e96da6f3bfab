/**
 * `submit slurm` without a cluster: the batch script it writes, its errors, and how it reads sbatch's answers (a stand-in
 * sbatch on PATH plays the parts a real one plays in tests/submit/slurm-cluster.test.ts).
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InfraError, UsageError } from '../../src/errors.js';
import { formatSlurmSubmission, submitSlurm } from '../../src/submit/slurm.js';
import { SKILL_EVAL_BIN } from '../../src/submit/worker-command.js';
import { tempDir } from '../helpers/trials.js';
import { plannedJobDir } from './helpers.js';

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

/** Puts an `sbatch` that runs `body` first on PATH; it records its arguments in <dir>/args. */
async function fakeSbatch(body: string): Promise<string> {
  const dir = await tempDir('sbatch');
  await writeFile(join(dir, 'sbatch'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/args\n${body}\n`);
  await chmod(join(dir, 'sbatch'), 0o755);
  process.env.PATH = `${dir}:${PATH}`;
  return dir;
}

describe('submit slurm', () => {
  it('writes an array job of N workers that run this installation’s worker on the job', async () => {
    const { jobDir, results } = await plannedJobDir();
    const submission = await submitSlurm(
      {
        jobDir: join('jobs', '2026-12-02__15-00-00_Demo'),
        workers: 3,
        partition: 'debug',
        concurrency: 2,
        dryRun: true,
      },
      results,
    );
    const script = await readFile(join(jobDir, 'slurm', 'worker.sbatch'), 'utf8');
    expect(script.split('\n')[0]).toBe('#!/bin/bash');
    expect(script).toContain('#SBATCH --array=0-2\n');
    expect(script).toContain('#SBATCH --partition=debug\n');
    expect(script).toContain(`#SBATCH --output=${jobDir}/slurm/worker-%A_%a.log\n`);
    expect(script).toContain(`exec ${process.execPath} ${SKILL_EVAL_BIN} worker ${jobDir} --concurrency=2\n`);
    expect(submission).toMatchObject({ jobDir, trials: 12, workers: 3 });
    expect(submission.slurmJobId).toBeUndefined();
    expect(submission.command).toEqual(['sbatch', '--parsable', join(jobDir, 'slurm', 'worker.sbatch')]);
    expect(formatSlurmSubmission(submission)).toMatch(/^dry run: would submit 3 worker\(s\) on job .* \(12 trials\)/);
  });

  it('quotes a job dir with spaces for bash', async () => {
    const { jobDir } = await plannedJobDir({ job_id: "it's a job" });
    await submitSlurm({ jobDir, workers: 1, dryRun: true }, '/');
    const script = await readFile(join(jobDir, 'slurm', 'worker.sbatch'), 'utf8');
    expect(script).toContain(`worker '${jobDir.replace("'", "'\\''")}'\n`);
    expect(script).toContain('#SBATCH --job-name=skill-eval-it-s-a-job\n');
  });

  it('submits with sbatch --parsable, passes sbatch options through and records the Slurm job id', async () => {
    const { jobDir } = await plannedJobDir();
    const bin = await fakeSbatch('echo "4242;cluster-a"');
    const submission = await submitSlurm({ jobDir, workers: 2, sbatchArgs: ['--time=1:00:00', '--qos=low'] }, '/');
    expect(submission).toMatchObject({ slurmJobId: '4242', cluster: 'cluster-a' });
    expect((await readFile(join(bin, 'args'), 'utf8')).trim().split('\n')).toEqual([
      '--parsable',
      '--time=1:00:00',
      '--qos=low',
      join(jobDir, 'slurm', 'worker.sbatch'),
    ]);
    const record = JSON.parse(await readFile(join(jobDir, 'slurm', 'submissions.jsonl'), 'utf8'));
    expect(record).toMatchObject({ slurm_job_id: '4242', cluster: 'cluster-a', workers: 2 });
    const printed = formatSlurmSubmission(submission);
    expect(printed).toContain(`follow it: skill-eval status ${jobDir}`);
    expect(printed).toContain('squeue --jobs=4242');
    expect(printed).toContain(`${jobDir}/slurm/worker-4242_<task>.log`);
  });

  it('says sbatch refused the job, in sbatch’s words', async () => {
    const { jobDir } = await plannedJobDir();
    await fakeSbatch('echo "sbatch: error: invalid partition specified: nope" >&2; exit 1');
    const error = await submitSlurm({ jobDir, workers: 2 }, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toBe('sbatch refused the job: sbatch: error: invalid partition specified: nope');
  });

  it('says when there is no sbatch on PATH', async () => {
    const { jobDir } = await plannedJobDir();
    process.env.PATH = await tempDir('empty-path');
    const error = await submitSlurm({ jobDir, workers: 2 }, '/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/^sbatch not found on PATH/);
  });

  it('refuses a missing job dir, a file, a directory without job.json, and a bad --workers', async () => {
    const { results, jobDir } = await plannedJobDir();
    const refuse = (options: Parameters<typeof submitSlurm>[0]): Promise<UsageError> =>
      submitSlurm({ ...options, dryRun: true }, results).then(
        () => {
          throw new Error('expected a UsageError');
        },
        (e: unknown) => e as UsageError,
      );
    const missing = await refuse({ jobDir: 'jobs/nope', workers: 1 });
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toBe(
      `job dir ${join(results, 'jobs/nope')}: expected a job directory; found nothing there`,
    );
    expect((await refuse({ jobDir: join(jobDir, 'job.json'), workers: 1 })).message).toMatch(/found a file$/);
    expect((await refuse({ jobDir: results, workers: 1 })).message).toBe(
      `job dir ${results}: expected a job directory; found no ${join(results, 'job.json')}`,
    );
    expect((await refuse({ jobDir, workers: 0 })).message).toBe('--workers: expected a whole number ≥ 1, found 0');
    expect((await refuse({ jobDir, workers: 1, partition: 'a b' })).message).toMatch(/^--partition: expected/);
  });
});
