import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorMessage, UsageError } from '../errors.js';
import { type JobConfig, plannedTrialCount, readJobConfig } from './job-config.js';

export interface SubmittedJob {
  /** Absolute: the batch script and the pods name it from anywhere. */
  dir: string;
  config: JobConfig;
  trials: number;
}

const HINT = 'pass the directory of a planned job (`skill-eval eval … --plan-only` prints it)';

/** The job a submit command works on: an existing directory holding a readable job.json, or one clear UsageError. */
export async function openJobDir(path: string, cwd: string): Promise<SubmittedJob> {
  const dir = resolve(cwd, path);
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new UsageError(`job dir ${dir}: expected a job directory; found nothing there`, { hint: HINT });
  if (!info.isDirectory())
    throw new UsageError(`job dir ${dir}: expected a job directory; found a file`, { hint: HINT });
  let config: JobConfig | undefined;
  try {
    config = await readJobConfig(dir);
  } catch (error) {
    throw new UsageError(`job dir ${dir}: job.json cannot be read (${errorMessage(error).split('\n')[0]})`, {
      cause: error,
      hint: HINT,
    });
  }
  if (!config) {
    throw new UsageError(`job dir ${dir}: expected a job directory; found no ${join(dir, 'job.json')}`, { hint: HINT });
  }
  return { dir, config, trials: plannedTrialCount(config) };
}
