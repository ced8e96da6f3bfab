import { setMaxListeners } from 'node:events';
import { join, relative } from 'node:path';
import { type ReportGroup, writeEvalReports } from '../results/eval-report.js';
import type { TrialResult } from '../results/schema.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { copyReusedTrials } from './baseline-reuse.js';
import { markReportsWritten } from './job-config.js';
import type { EvalPlan } from './plan-eval.js';
import { type JobEvent, type JobOutcome, runJob } from './run-job.js';
import { writeSkillsLock } from './skills-lock.js';
import { type JobSummary, summarizeResults } from './summary.js';

export interface RunEvalContext {
  /** Aborting stops scheduling trials; running ones are stopped and cleaned up. */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: JobEvent) => void) | undefined;
}

export interface EvalJobOutcome {
  results: TrialResult[];
  /** The job was stopped before every trial ran (resume it with the same plan). */
  cancelled: boolean;
  summary: JobSummary;
  reportPaths: string[];
  /** `--max-cost` was spent before every trial started (JobOutcome.budgetStopped). */
  budgetStopped?: JobOutcome['budgetStopped'];
}

/** Results grouped per task × agent × model × arm: one report each. */
function reportGroups(results: readonly TrialResult[]): ReportGroup[] {
  const groups = new Map<string, ReportGroup>();
  for (const r of results) {
    const key = JSON.stringify([r.task, r.agent, r.model ?? '', r.arm]);
    const group = groups.get(key) ?? { task: r.task, agent: r.agent, model: r.model, arm: r.arm, results: [] };
    group.results.push(r);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** `eval`'s running: writes job.json, runs every trial of the plan not yet done, then the summary and reports. */
export async function runEvalJob(plan: EvalPlan, context: RunEvalContext = {}): Promise<EvalJobOutcome> {
  const { options, config, jobDir } = plan;
  await writeJsonAtomic(join(jobDir, 'job.json'), config);
  if (plan.skillsLock) await writeSkillsLock(jobDir, plan.skillsLock);
  // Before runJob: its resume check then counts the copied trials as done, and runs only the others.
  if (plan.baselineReuse) await copyReusedTrials(plan.baselineReuse, jobDir, config.job_id, plan.redactor);
  // Every running trial listens for cancel (lifecycle, exec, agent): more than Node's default warning threshold of 10.
  if (context.signal) setMaxListeners(Math.max(50, options.concurrency * 10), context.signal);
  const outcome = await runJob({
    jobId: config.job_id,
    jobDir,
    tasks: plan.tasks,
    agents: plan.agents,
    arms: plan.arms,
    trials: options.trials,
    sequential: options.sequential,
    provider: plan.provider,
    concurrency: options.concurrency,
    env: plan.env,
    redactor: plan.redactor,
    judge: plan.judge,
    signal: context.signal,
    forceBuild: options.forceBuild,
    agentTimeoutSec: options.agentTimeout,
    verifierTimeoutSec: options.verifierTimeout,
    passThreshold: options.passThreshold,
    audit: options.audit,
    workspaceArchiveMaxBytes:
      options.workspaceArchiveMaxMb === undefined ? undefined : Math.round(options.workspaceArchiveMaxMb * 1024 * 1024),
    maxRetries: options.maxRetries,
    baselines: plan.baselines,
    gateway: plan.gateway,
    onEvent: context.onEvent,
  });
  const counts = summarizeResults(config.job_id, outcome.results.length, outcome.results, options.passThreshold);
  const summary: JobSummary = outcome.sequential ? { ...counts, sequential: outcome.sequential } : counts;
  // Named after the job's start: a resumed job rewrites its reports instead of adding new ones.
  const reportPaths = await writeEvalReports({
    resultsDir: plan.resultsDir,
    jobDir,
    createdAt: new Date(config.created_at),
    commandLine: config.command_line,
    passThreshold: options.passThreshold,
    groups: reportGroups(outcome.results),
  });
  // Written last: a job killed before this point is unfinished, and the same command resumes it (runs nothing
  // more, writes the reports).
  await markReportsWritten(
    jobDir,
    reportPaths.map((path) => relative(jobDir, path)),
  );
  return {
    results: outcome.results,
    cancelled: outcome.cancelled,
    summary,
    reportPaths,
    budgetStopped: outcome.budgetStopped,
  };
}
