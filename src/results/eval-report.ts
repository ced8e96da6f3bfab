import { join, relative } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { EXCLUDED_STATUSES, type TrialResult } from './schema.js';

/**
 * The per-task report `results/<task>_<timestamp>.json`: the original skill-eval fields (`task`, `pass_rate`,
 * `trials[{trial_id, reward, session_log}]`, `skills_used`) plus provenance. The trial directories' result.json
 * files stay authoritative; this file is a convenience index (docs/results.md).
 */
export interface EvalReport {
  task: string;
  /** Passed / valid trials (infra and verifier errors excluded); absent when no trial was valid. */
  pass_rate?: number | undefined;
  trials: Array<{
    trial_id: string;
    trial_name: string;
    reward?: number | undefined;
    status: TrialResult['status'];
    /** Path of the trial's session log, relative to the report. */
    session_log: string;
    trial_dir: string;
    duration_ms: number;
    error?: string | undefined;
  }>;
  skills_used: string[];
  skill_eval_version: string;
  agent: string;
  model?: string | undefined;
  provider: string;
  arm: string;
  skills: TrialResult['skills'];
  task_checksum: string;
  job_id: string;
  job_dir: string;
  command_line: string[];
  created_at: string;
}

export function timestampForFile(date: Date): string {
  return date
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d{3}Z$/, 'Z');
}

export interface ReportGroup {
  task: string;
  agent: string;
  model?: string | undefined;
  arm: string;
  results: TrialResult[];
}

/** Writes one report per task × agent × model × arm; returns their paths. */
export async function writeEvalReports(options: {
  resultsDir: string;
  jobDir: string;
  createdAt: Date;
  commandLine: string[];
  passThreshold: number;
  groups: ReportGroup[];
}): Promise<string[]> {
  const paths: string[] = [];
  const perTask = new Map<string, number>();
  for (const group of options.groups) perTask.set(group.task, (perTask.get(group.task) ?? 0) + 1);
  for (const group of options.groups) {
    const first = group.results[0];
    if (!first) continue;
    const sorted = [...group.results].sort((a, b) => a.trial_index - b.trial_index);
    const valid = sorted.filter((r) => !EXCLUDED_STATUSES.has(r.status));
    const passed = valid.filter((r) => r.reward !== undefined && r.reward >= options.passThreshold).length;
    // One group per task keeps the original name; several (both arms, several agents) get a qualifier.
    const qualifier =
      (perTask.get(group.task) ?? 0) > 1 ? `_${[group.agent, group.model, group.arm].filter(Boolean).join('_')}` : '';
    const path = join(
      options.resultsDir,
      `${group.task}${qualifier}_${timestampForFile(options.createdAt)}.json`.replace(/[^A-Za-z0-9_.-]+/g, '-'),
    );
    const report: EvalReport = {
      task: group.task,
      pass_rate: valid.length > 0 ? passed / valid.length : undefined,
      trials: sorted.map((r) => {
        const trialDir = join(options.jobDir, r.trial_name);
        return {
          trial_id: r.trial_id,
          trial_name: r.trial_name,
          reward: r.reward,
          status: r.status,
          session_log: relative(options.resultsDir, join(trialDir, r.files.session_log)),
          trial_dir: relative(options.resultsDir, trialDir),
          duration_ms: r.timings.total_ms,
          error: r.error?.message,
        };
      }),
      skills_used: first.skills.map((s) => s.name),
      skill_eval_version: first.skill_eval_version,
      agent: group.agent,
      model: group.model,
      provider: first.provider,
      arm: group.arm,
      skills: first.skills,
      task_checksum: first.task_checksum,
      job_id: first.job_id,
      job_dir: relative(options.resultsDir, options.jobDir),
      command_line: options.commandLine,
      created_at: options.createdAt.toISOString(),
    };
    await writeJsonAtomic(path, report);
    paths.push(path);
  }
  return paths;
}
