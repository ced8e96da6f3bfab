import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { trialResultSchema } from '../results/schema.js';
import { processAlive } from '../util/process-group.js';
import { type ClaimOwner, currentClaim, DEFAULT_STALE_CLAIM_SEC, listWorkers } from './claims.js';
import { readJobConfig } from './job-config.js';
import { plannedTrialNames } from './plan.js';

export type TrialState = 'done' | 'running' | 'stale' | 'pending';

export interface TrialStatusLine {
  name: string;
  state: TrialState;
  /** done: the result's status. */
  status?: string | undefined;
  owner?: ClaimOwner | undefined;
  /** running, stale: the claim's heartbeat, and how old it is here (by this machine's clock). */
  heartbeat_at?: string | undefined;
  heartbeat_age_sec?: number | undefined;
  /** stale: why the next worker takes it over. */
  reason?: string | undefined;
}

export interface WorkerStatus {
  owner: ClaimOwner;
  command: string;
  concurrency: number;
  started_at: string;
  heartbeat_age_sec: number;
  alive: boolean;
}

export interface JobStatus {
  job_id: string;
  job_dir: string;
  /** `--trials auto`: the most the job may run. */
  planned: number;
  up_to: boolean;
  done: number;
  running: number;
  stale: number;
  pending: number;
  /** Results by status (done trials). */
  statuses: Record<string, number>;
  /** summary.json lists the reports: the job was finalized (for the trials done then). */
  finalized: boolean;
  workers: WorkerStatus[];
  trials: TrialStatusLine[];
}

/** Why a claim is stale as one snapshot can tell: its owner is gone from this host, or its heartbeat is old. */
function staleReason(owner: ClaimOwner, ageMs: number, staleMs: number): string | undefined {
  if (owner.host === hostname()) return processAlive(owner.pid) ? undefined : `process ${owner.pid} is gone`;
  if (ageMs > staleMs) return `no heartbeat for ${Math.round(ageMs / 1000)} s`;
  return undefined;
}

async function resultStatus(jobDir: string, trial: string): Promise<string | undefined> {
  try {
    const parsed = trialResultSchema.safeParse(JSON.parse(await readFile(join(jobDir, trial, 'result.json'), 'utf8')));
    return parsed.success ? parsed.data.status : undefined;
  } catch {
    return undefined;
  }
}

async function trialLine(jobDir: string, name: string, staleMs: number): Promise<TrialStatusLine> {
  const claim = currentClaim(jobDir, name).record;
  const status = await resultStatus(jobDir, name);
  const running = claim?.state === 'running';
  if (status !== undefined && !running) return { name, state: 'done', status, owner: claim?.owner };
  if (!claim || !running) return { name, state: 'pending' };
  const ageMs = Date.now() - Date.parse(claim.heartbeat_at);
  const reason = staleReason(claim.owner, ageMs, staleMs);
  return {
    name,
    state: reason ? 'stale' : 'running',
    owner: claim.owner,
    heartbeat_at: claim.heartbeat_at,
    heartbeat_age_sec: Math.round(ageMs / 1000),
    reason,
  };
}

async function finalized(jobDir: string): Promise<boolean> {
  try {
    const summary = JSON.parse(await readFile(join(jobDir, 'summary.json'), 'utf8')) as { reports?: unknown };
    return Array.isArray(summary.reports);
  } catch {
    return false;
  }
}

/** `skill-eval status`: a job's progress across all its workers, from its trial directories and claims. */
export async function jobStatus(
  jobDir: string,
  options: { staleClaimSec?: number | undefined } = {},
): Promise<JobStatus> {
  const config = await readJobConfig(jobDir).catch((error: unknown) => {
    throw new UsageError(`${jobDir}/job.json is not a valid job file`, { cause: error });
  });
  if (!config) throw new UsageError(`no job at ${jobDir} (expected ${join(jobDir, 'job.json')})`);
  const staleMs = (options.staleClaimSec ?? DEFAULT_STALE_CLAIM_SEC) * 1000;
  const trials: TrialStatusLine[] = [];
  for (const name of plannedTrialNames(config)) trials.push(await trialLine(jobDir, name, staleMs));
  const count = (state: TrialState): number => trials.filter((t) => t.state === state).length;
  const statuses: Record<string, number> = {};
  for (const t of trials) if (t.status !== undefined) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
  const workers = listWorkers(jobDir).map((w) => {
    const ageMs = Date.now() - Date.parse(w.heartbeat_at);
    return {
      owner: w.owner,
      command: w.command,
      concurrency: w.concurrency,
      started_at: w.started_at,
      heartbeat_age_sec: Math.round(ageMs / 1000),
      alive: staleReason(w.owner, ageMs, staleMs) === undefined,
    };
  });
  return {
    job_id: config.job_id,
    job_dir: jobDir,
    planned: trials.length,
    up_to: config.sequential !== undefined,
    done: count('done'),
    running: count('running'),
    stale: count('stale'),
    pending: count('pending'),
    statuses,
    finalized: await finalized(jobDir),
    workers,
    trials,
  };
}
