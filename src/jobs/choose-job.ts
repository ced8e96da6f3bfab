import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { EvalNotice } from './eval-tasks.js';
import { diffJobConfig, findResumableJob, type JobConfig, readJobConfig } from './job-config.js';

export interface ChosenJob {
  /** The plan to record: `planned`, with the id and start time of the job it continues. */
  config: JobConfig;
  jobDir: string;
  /** It continues an earlier run of the same plan. */
  resumed: boolean;
}

/** A job that exists with another plan: its results are not mixed with the new plan's. */
export function plannedDifferently(jobId: string, changes: readonly string[]): UsageError {
  return new UsageError(`job ${jobId} was planned differently; refusing to mix results:\n  ${changes.join('\n  ')}`, {
    hint: 'use another --job-name (or --new-job) for the new plan, or restore the old one to resume',
  });
}

/**
 * Same plan, same job: a named (or resumed) job continues where it stopped when its plan matches and is refused
 * when it does not; otherwise the latest unfinished job with this plan continues, unless `newJob`.
 */
export async function chooseJob(
  planned: JobConfig,
  options: { jobsDir: string; named: boolean; newJob: boolean; notify: (notice: EvalNotice) => void },
): Promise<ChosenJob> {
  const jobDir = join(options.jobsDir, planned.job_id);
  const existing = options.named ? await readJobConfig(jobDir) : undefined;
  if (existing) {
    const changes = diffJobConfig(existing, planned);
    if (changes.length > 0) throw plannedDifferently(planned.job_id, changes);
    options.notify({ level: 'note', message: `resuming job ${planned.job_id}` });
    return { config: { ...planned, created_at: existing.created_at }, jobDir, resumed: true };
  }
  if (options.named || options.newJob) return { config: planned, jobDir, resumed: false };
  const resumable = await findResumableJob(options.jobsDir, planned);
  if (!resumable) return { config: planned, jobDir, resumed: false };
  const config = (await readJobConfig(resumable))!;
  options.notify({
    level: 'note',
    message: `resuming unfinished job ${config.job_id} with the same plan (--new-job starts afresh)`,
  });
  return {
    config: { ...planned, job_id: config.job_id, created_at: config.created_at },
    jobDir: resumable,
    resumed: true,
  };
}
