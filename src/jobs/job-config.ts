import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { armNameSchema } from '../results/schema.js';
import { writeJsonAtomic } from '../util/atomic-write.js';

/** `job.json`: what a job planned. Resuming requires the same plan. */
export const jobConfigSchema = z.object({
  job_id: z.string(),
  created_at: z.string(),
  command_line: z.array(z.string()),
  tasks: z.array(z.object({ name: z.string(), dir: z.string(), checksum: z.string() })),
  /** `command`: what a configurable agent runs (--command, --acp-command), redacted. */
  agents: z.array(z.object({ name: z.string(), model: z.string().optional(), command: z.string().optional() })),
  arms: z.array(armNameSchema),
  trials: z.number().int().positive(),
  provider: z.string(),
  pass_threshold: z.number(),
  concurrency: z.number().optional(),
  forwarded_env: z.array(z.string()).optional(),
  /** `--skill` values, canonical (local paths absolute): `--resume` resolves them again, git ones at the locked commits. */
  skill_specs: z.array(z.string()).optional(),
  /** The `--skill` skills as resolved (skills.lock.json has the full provenance): a change refuses the resume. */
  skills: z.array(z.object({ name: z.string(), sha256: z.string(), commit: z.string().optional() })).optional(),
  /** `--distractor-pool`, canonical: where with-distractors:N draws from (`--resume` resolves it again). */
  distractor_pool: z.string().optional(),
  /** The skills of skill-variant arms and of the distractor pool as resolved: a change refuses the resume. */
  arm_skills: z.array(z.object({ arm: z.string(), name: z.string(), sha256: z.string() })).optional(),
  /** `--grader-model`: the default judge of llm_rubric graders. */
  grader_model: z.string().optional(),
  /** `--baseline-from`, resolved: the job whose matching no-skills trials were copied (`--resume` keeps it). */
  baseline_from: z.object({ job_id: z.string(), dir: z.string() }).optional(),
  /** The model gateway as the job runs it (docs/gateway.md); absent in jobs of earlier versions (on by default now). */
  gateway: z
    .object({
      /** false: `--no-gateway` (the agents got the keys in their sandboxes). */
      enabled: z.boolean(),
      record: z.boolean(),
      max_tokens_per_trial: z.number().optional(),
      max_cost_per_trial: z.number().optional(),
      max_cost: z.number().optional(),
      /** `--replay`: the job whose recordings answer every call. */
      replay: z.object({ job_id: z.string(), dir: z.string() }).optional(),
      /** `--prices`: the price file over the built-in table. */
      prices: z.string().optional(),
    })
    .optional(),
  /** `--trials auto`: the stopping rule (`trials` is then the most per task and arm; docs/analyze.md). */
  sequential: z
    .object({
      method: z.string(),
      alpha: z.number(),
      max_trials: z.number().int().positive(),
      ci_width: z.number().optional(),
      round: z.number().int().positive(),
    })
    .optional(),
});

export type JobConfig = z.infer<typeof jobConfigSchema>;

/** The parts of a job that decide which trials it holds and what they mean. */
function plannedShape(config: JobConfig) {
  return {
    tasks: config.tasks.map((t) => `${t.name}@${t.checksum.slice(0, 12)}`),
    agents: config.agents.map(
      (a) =>
        `${a.model ? `${a.name}(${a.model})` : a.name}${a.command !== undefined ? ` ${JSON.stringify(a.command)}` : ''}`,
    ),
    arms: config.arms,
    trials: config.trials,
    provider: config.provider,
    pass_threshold: config.pass_threshold,
    skills: (config.skills ?? []).map((s) => `${s.name}@${s.sha256.slice(0, 12)}`),
    sequential: config.sequential,
    arm_skills: (config.arm_skills ?? []).map((s) => `${s.arm}: ${s.name}@${s.sha256.slice(0, 12)}`),
    // Through the gateway or not, answered by a recording or not: different trials.
    gateway: config.gateway?.enabled !== false,
    replay: config.gateway?.replay?.job_id,
  };
}

/** What changed in the `--skill` skills between two plans. */
function skillChanges(previous: JobConfig, next: JobConfig): string[] {
  const before = new Map((previous.skills ?? []).map((s) => [s.name, s.sha256]));
  const after = new Map((next.skills ?? []).map((s) => [s.name, s.sha256]));
  const changes: string[] = [];
  for (const [name, sha256] of after) {
    const old = before.get(name);
    if (old === undefined) changes.push(`--skill skill ${name} added`);
    else if (old !== sha256)
      changes.push(`--skill skill ${name} changed (sha256 ${old.slice(0, 12)} → ${sha256.slice(0, 12)})`);
  }
  for (const name of before.keys()) if (!after.has(name)) changes.push(`--skill skill ${name} removed`);
  return changes;
}

/** Human-readable differences between two plans; empty when a job may be resumed with the new one. */
export function diffJobConfig(previous: JobConfig, next: JobConfig): string[] {
  const a = plannedShape(previous);
  const b = plannedShape(next);
  const changes: string[] = [];
  for (const key of Object.keys(a) as Array<keyof typeof a>) {
    const before = JSON.stringify(a[key]);
    const after = JSON.stringify(b[key]);
    if (before === after) continue;
    if (key === 'tasks') {
      const beforeNames = new Map(previous.tasks.map((t) => [t.name, t.checksum]));
      for (const task of next.tasks) {
        const old = beforeNames.get(task.name);
        if (old === undefined) changes.push(`task ${task.name} added`);
        else if (old !== task.checksum)
          changes.push(
            `task ${task.name} changed on disk (checksum ${old.slice(0, 12)} → ${task.checksum.slice(0, 12)})`,
          );
      }
      for (const task of previous.tasks)
        if (!next.tasks.some((t) => t.name === task.name)) changes.push(`task ${task.name} removed`);
      if (changes.length === 0) changes.push('task order changed');
    } else if (key === 'skills') {
      changes.push(...skillChanges(previous, next));
    } else {
      changes.push(`${key}: ${before} → ${after}`);
    }
  }
  return changes;
}

export async function readJobConfig(jobDir: string): Promise<JobConfig | undefined> {
  const path = join(jobDir, 'job.json');
  if (!existsSync(path)) return undefined;
  return jobConfigSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** Trials of a job that have a kept result (anything but an infrastructure error). */
export async function countFinishedTrials(jobDir: string): Promise<number> {
  let finished = 0;
  for (const entry of await readdir(jobDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    try {
      const result = JSON.parse(await readFile(join(jobDir, entry.name, 'result.json'), 'utf8')) as { status?: string };
      if (result.status && result.status !== 'infra_error') finished += 1;
    } catch {
      // no result yet: unfinished
    }
  }
  return finished;
}

export function plannedTrialCount(config: JobConfig): number {
  return config.tasks.length * config.agents.length * config.arms.length * config.trials;
}

/**
 * Whether summary.json accounts for every planned trial and lists the per-task reports (a run killed after its
 * last trial may have left an older summary, or no reports).
 */
async function summaryComplete(jobDir: string, planned: number): Promise<boolean> {
  try {
    const summary = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8')) as {
      finished?: unknown;
      reports?: unknown;
      sequential?: { complete?: unknown };
    };
    // --trials auto: done when every task × agent has stopped, usually well before the most it may run.
    if (summary.sequential !== undefined) return summary.sequential.complete === true && Array.isArray(summary.reports);
    return typeof summary.finished === 'number' && summary.finished >= planned && Array.isArray(summary.reports);
  } catch {
    return false;
  }
}

/** Adds `reports` (paths relative to the job directory) to summary.json: the last thing a job writes. */
export async function markReportsWritten(jobDir: string, reports: string[]): Promise<void> {
  const path = join(jobDir, 'summary.json');
  if (!existsSync(path)) return;
  const summary = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  await writeJsonAtomic(path, { ...summary, reports });
}

/** The most recent job under `jobsDir` with the same plan that has not finished every trial, or whose summary lags. */
export async function findResumableJob(jobsDir: string, next: JobConfig): Promise<string | undefined> {
  if (!existsSync(jobsDir)) return undefined;
  const candidates: Array<{ dir: string; mtime: number }> = [];
  for (const entry of await readdir(jobsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(jobsDir, entry.name);
    try {
      const config = await readJobConfig(dir);
      if (!config || diffJobConfig(config, next).length > 0) continue;
      const planned = plannedTrialCount(config);
      const finished = config.sequential ? planned : await countFinishedTrials(dir);
      if (finished >= planned && (await summaryComplete(dir, planned))) continue;
      candidates.push({ dir, mtime: (await stat(join(dir, 'job.json'))).mtimeMs });
    } catch {
      // an unreadable job.json is not ours to resume
    }
  }
  return candidates.sort((x, y) => y.mtime - x.mtime)[0]?.dir;
}
