import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { type JobConfig, readJobConfig } from '../jobs/job-config.js';
import { REGRADES_DIR } from '../results/read.js';
import { type TrialResult, trialResultSchema } from '../results/schema.js';
import { zodProblems } from '../util/problems.js';

export { REGRADES_DIR };

export interface RegradeJob {
  dir: string;
  config: JobConfig;
}

/** `JOB`: a name under `<resultsDir>/jobs`, or a path (anything with a slash). A missing job is a usage error. */
export async function openJob(job: string, resultsDir: string, cwd: string): Promise<RegradeJob> {
  const dir = job.includes('/') ? resolve(cwd, job) : join(resolve(cwd, resultsDir), 'jobs', job);
  let config: JobConfig | undefined;
  try {
    config = await readJobConfig(dir);
  } catch (error) {
    throw new UsageError(`${join(dir, 'job.json')}: expected a skill-eval job file, found one that does not validate`, {
      cause: error,
    });
  }
  if (!config)
    throw new UsageError(`no job ${job}: ${join(dir, 'job.json')} does not exist`, {
      hint: `pass a job name under ${join(resultsDir, 'jobs')} (see --results-dir) or the path of a job directory`,
    });
  return { dir, config };
}

/** A stored trial, with the result it ended with. */
export interface StoredTrial {
  dir: string;
  name: string;
  result: TrialResult;
}

/** A stored trial that cannot be regraded, and why. */
export interface SkippedTrial {
  name: string;
  task?: string | undefined;
  reason: string;
}

/** Every trial directory of the job (those holding result.json), in name order; unreadable ones are skipped. */
export async function storedTrials(jobDir: string): Promise<{ trials: StoredTrial[]; skipped: SkippedTrial[] }> {
  const trials: StoredTrial[] = [];
  const skipped: SkippedTrial[] = [];
  const entries = (await readdir(jobDir, { withFileTypes: true })).filter(
    (entry) => entry.isDirectory() && entry.name !== REGRADES_DIR,
  );
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const dir = join(jobDir, entry.name);
    const file = join(dir, 'result.json');
    if (!existsSync(file)) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      skipped.push({ name: entry.name, reason: 'result.json is not valid JSON' });
      continue;
    }
    const parsed = trialResultSchema.safeParse(raw);
    if (!parsed.success) {
      const problem = zodProblems(parsed.error, file, raw)[0];
      skipped.push({ name: entry.name, reason: `result.json does not validate (${problem?.message ?? 'unknown'})` });
      continue;
    }
    trials.push({ dir, name: entry.name, result: parsed.data });
  }
  return { trials, skipped };
}

/** Why a stored trial cannot be verified again, or undefined when its archive is there, whole. */
export async function whyNotRegradable(trial: StoredTrial): Promise<string | undefined> {
  const { result } = trial;
  if (result.status === 'infra_error')
    return `an infrastructure error (${result.error?.message ?? 'no detail'}): nothing the agent left to verify`;
  const block = result.workspace;
  if (!block) return 'no workspace archive: the trial was run by a skill-eval without workspace archives';
  if (!block.archive) return block.note ?? 'no workspace archive';
  const path = join(trial.dir, block.archive);
  if (!existsSync(path)) return `${block.archive} is missing from the trial directory`;
  if (block.sha256 !== undefined) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    const actual = hash.digest('hex');
    if (actual !== block.sha256)
      return `${block.archive} changed since the trial (sha256 ${actual.slice(0, 12)}, result.json says ${block.sha256.slice(0, 12)})`;
  }
  return undefined;
}
