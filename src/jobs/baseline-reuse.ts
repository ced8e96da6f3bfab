import { existsSync } from 'node:fs';
import { cp, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Arm } from '../agents/types.js';
import { UsageError } from '../errors.js';
import { type TrialResult, type TrialStatus, trialResultSchema } from '../results/schema.js';
import type { Task } from '../task/types.js';
import {
  type BaselineFingerprint,
  baselineFingerprint,
  baselineTaskChecksum,
  type FieldDifference,
  fingerprintDifferences,
} from '../trial/fingerprint.js';
import { trialName } from '../trial/run-trial.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { removeTree } from '../util/remove-tree.js';
import type { Redactor } from '../util/secrets.js';
import type { ClaimBook } from './claims.js';
import type { EvalJobOptions } from './eval-options.js';
import type { EvalNotice } from './eval-tasks.js';
import { readJobConfig } from './job-config.js';
import { baselineKey, type JobAgent } from './run-job.js';

/** Outcomes that say something about the agent: only these stand in for a new run (never an infra error). */
const REUSABLE: ReadonlySet<TrialStatus> = new Set(['passed', 'failed', 'agent_timeout', 'agent_error']);

/** The no-skills trials a job plans: trial name → the fingerprint its result would carry. */
export type WantedBaseline = ReadonlyMap<string, BaselineFingerprint>;

/** What `--baseline-from` resolved to: the source job, and which of its trials are copied in. */
export interface BaselineReuse {
  source: { job_id: string; dir: string };
  /** Trial names (the same in both jobs) whose source result matches. */
  trials: string[];
}

interface Examined {
  jobId: string;
  dir: string;
  matches: string[];
  /** Finished trials of the plan's names whose fingerprint differs, with how. */
  mismatches: Array<{ trial: string; differences: FieldDifference[] }>;
  /** Trials of the plan's names left out for their status (infra errors, verifier errors). */
  unusable: number;
}

async function readResult(path: string): Promise<TrialResult | undefined> {
  try {
    const parsed = trialResultSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function examineJob(dir: string, jobId: string, wanted: WantedBaseline): Promise<Examined> {
  const examined: Examined = { jobId, dir, matches: [], mismatches: [], unusable: 0 };
  for (const [trial, expected] of wanted) {
    const result = await readResult(join(dir, trial, 'result.json'));
    if (result?.arm !== 'no-skills') continue;
    if (!REUSABLE.has(result.status)) examined.unusable++;
    else if (result.baseline_fingerprint === expected.sha256) examined.matches.push(trial);
    else
      examined.mismatches.push({ trial, differences: fingerprintDifferences(expected.fields, result.baseline_fields) });
  }
  return examined;
}

/** "task checksum: expected 1a2b… found 3c4d…" once per task and field. */
function describeMismatches(mismatches: Examined['mismatches']): string[] {
  const lines = new Set<string>();
  for (const { trial, differences } of mismatches) {
    const task = trial.split('__')[0];
    for (const d of differences) lines.add(`${task}: ${d.field}: expected ${d.expected}, found ${d.found}`);
  }
  return [...lines];
}

function sourceDir(from: string, cwd: string, jobsDir: string): string {
  return from.includes('/') ? resolve(cwd, from) : join(jobsDir, from);
}

async function namedSource(from: string, dir: string, wanted: WantedBaseline): Promise<Examined> {
  const config = await readJobConfig(dir).catch((error: unknown) => {
    throw new UsageError(`--baseline-from ${from}: ${join(dir, 'job.json')} is not a valid job file`, { cause: error });
  });
  if (!config)
    throw new UsageError(`--baseline-from ${from}: no job at ${dir} (expected ${join(dir, 'job.json')})`, {
      hint: 'name a job under <results-dir>/jobs, give its path, or use --baseline-from auto',
    });
  return examineJob(dir, config.job_id, wanted);
}

/** Jobs under `jobsDir` but `exclude`, newest first (by job.json's created_at). */
async function jobsNewestFirst(jobsDir: string, exclude: string): Promise<Array<{ dir: string; jobId: string }>> {
  if (!existsSync(jobsDir)) return [];
  const jobs: Array<{ dir: string; jobId: string; createdAt: string }> = [];
  for (const entry of await readdir(jobsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(jobsDir, entry.name);
    const config = await readJobConfig(dir).catch(() => undefined);
    if (config && config.job_id !== exclude) jobs.push({ dir, jobId: config.job_id, createdAt: config.created_at });
  }
  return jobs.sort((x, y) => (x.createdAt < y.createdAt ? 1 : x.createdAt > y.createdAt ? -1 : 0));
}

async function autoSource(
  jobsDir: string,
  jobId: string,
  wanted: WantedBaseline,
  notify: (notice: EvalNotice) => void,
): Promise<Examined | undefined> {
  const skipped: string[] = [];
  for (const job of await jobsNewestFirst(jobsDir, jobId)) {
    const examined = await examineJob(job.dir, job.jobId, wanted);
    if (examined.matches.length > 0) return examined;
    const reasons = describeMismatches(examined.mismatches);
    if (reasons.length > 0) skipped.push(`${job.jobId} (${reasons.join('; ')})`);
  }
  const why = skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : '';
  notify({ level: 'note', message: `--baseline-from auto: no earlier job has matching no-skills trials${why}` });
  return undefined;
}

/**
 * `--baseline-from`: which earlier job's no-skills trials stand in for this job's, checked before anything runs.
 * A named source without one matching trial is a UsageError naming each differing fingerprint field; `auto` takes
 * the newest job with matching trials (or none). Matching trials are reused; the others run.
 */
export async function planBaselineReuse(input: {
  from: string;
  cwd: string;
  jobsDir: string;
  /** This job's id: `auto` never picks the job itself. */
  jobId: string;
  wanted: WantedBaseline;
  notify: (notice: EvalNotice) => void;
}): Promise<BaselineReuse | undefined> {
  const { from, wanted, notify } = input;
  const examined =
    from === 'auto'
      ? await autoSource(input.jobsDir, input.jobId, wanted, notify)
      : await namedSource(from, sourceDir(from, input.cwd, input.jobsDir), wanted);
  if (!examined) return undefined;
  if (examined.jobId === input.jobId)
    throw new UsageError(`--baseline-from ${from}: job ${input.jobId} is the job being run`, {
      hint: 'name an earlier job (--resume continues this one with the trials it has)',
    });
  const mismatched = describeMismatches(examined.mismatches);
  if (examined.matches.length === 0) {
    const found =
      mismatched.length > 0
        ? `its no-skills trials were measured differently:\n  ${mismatched.join('\n  ')}`
        : `it has no finished no-skills trials of this plan${examined.unusable > 0 ? ` (${examined.unusable} ended in an infrastructure or verifier error and are never reused)` : ''}`;
    throw new UsageError(`--baseline-from ${from}: job ${examined.jobId} cannot stand in for this baseline: ${found}`, {
      hint: 'run without --baseline-from to measure the baseline afresh, or name another job (--baseline-from auto finds one)',
    });
  }
  if (mismatched.length > 0)
    notify({
      level: 'warning',
      message: `--baseline-from: ${examined.mismatches.length} no-skills trials of job ${examined.jobId} differ and run again:\n  ${mismatched.join('\n  ')}`,
    });
  const rest = wanted.size - examined.matches.length;
  notify({
    level: 'note',
    message: `baseline: reusing ${examined.matches.length} no-skills trials of job ${examined.jobId}${rest > 0 ? `; ${rest} run` : ''}`,
  });
  return { source: { job_id: examined.jobId, dir: examined.dir }, trials: examined.matches };
}

/**
 * Copies each reused trial directory into the job (session log, agent and verifier output, archive: the job stays
 * self-contained), its result.json marked `reused_from`. A trial already copied (a resumed job) is left alone;
 * resume's own check (runJob) then counts it as done.
 */
export async function copyReusedTrials(
  reuse: BaselineReuse,
  jobDir: string,
  jobId: string,
  redactor: Redactor,
  claims?: ClaimBook,
): Promise<number> {
  let copied = 0;
  for (const trial of reuse.trials) {
    const target = join(jobDir, trial);
    if ((await readResult(join(target, 'result.json')))?.reused_from) continue;
    // Another worker of this job copies it (or runs it: the trial's claim is taken either way).
    const claim = claims?.tryClaim(trial);
    if (claim && !claim.held) continue;
    try {
      if (await copyReusedTrial(reuse, trial, target, jobId, redactor)) copied++;
    } finally {
      if (claim?.held) claims?.release(claim.held, 'released');
    }
  }
  return copied;
}

async function copyReusedTrial(
  reuse: BaselineReuse,
  trial: string,
  target: string,
  jobId: string,
  redactor: Redactor,
): Promise<boolean> {
  {
    const from = join(reuse.source.dir, trial);
    const result = await readResult(join(from, 'result.json'));
    if (!result) return false; // gone since planning: the trial runs
    await removeTree(target);
    // result.json last, atomically: a copy cut short has none, and is copied again (or run) next time.
    await cp(from, target, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (path) => path !== join(from, 'result.json'),
    });
    // This job's secrets may be ones the source job did not know of.
    await redactor.redactTree(target);
    // A trial reused twice names where it ran.
    const reusedFrom = result.reused_from ?? { job_id: reuse.source.job_id, trial_dir: from };
    const reused = { ...result, job_id: jobId, reused_from: reusedFrom };
    await writeJsonAtomic(join(target, 'result.json'), redactor.redactValue(reused));
    return true;
  }
}

export interface JobBaselines {
  /** By baselineKey(): what runJob records in each no-skills result. */
  fingerprints: Map<string, BaselineFingerprint>;
  /** Every planned no-skills trial, by name. */
  wanted: Map<string, BaselineFingerprint>;
}

/** Each task × agent's no-skills fingerprint, and the trials that carry it; empty without the no-skills arm. */
export async function jobBaselines(input: {
  tasks: readonly Task[];
  agents: readonly JobAgent[];
  arms: readonly Arm[];
  trials: number;
  provider: string;
  options: Pick<EvalJobOptions, 'network' | 'runtime' | 'agentTimeout' | 'verifierTimeout'>;
  redactor: Redactor;
}): Promise<JobBaselines> {
  const baselines: JobBaselines = { fingerprints: new Map(), wanted: new Map() };
  if (!input.arms.includes('no-skills')) return baselines;
  for (const task of input.tasks) {
    const taskChecksum = await baselineTaskChecksum(task);
    for (const { agent, model } of input.agents) {
      const fingerprint = baselineFingerprint({
        task,
        taskChecksum,
        agent,
        model,
        provider: input.provider,
        network: input.options.network,
        runtime: input.options.runtime,
        agentTimeoutSec: input.options.agentTimeout,
        verifierTimeoutSec: input.options.verifierTimeout,
        redact: (text) => input.redactor.redact(text),
      });
      baselines.fingerprints.set(baselineKey(task.name, agent.name, model), fingerprint);
      for (let trialIndex = 1; trialIndex <= input.trials; trialIndex++)
        baselines.wanted.set(trialName({ task, agent, model, arm: 'no-skills', trialIndex }), fingerprint);
    }
  }
  return baselines;
}
