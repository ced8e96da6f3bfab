import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { InfraError, InterruptedError, UsageError } from '../errors.js';
import { openJobDir } from '../jobs/open-job-dir.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { shellJoin, shellQuote } from '../util/shell.js';
import { localWorkerCommand, type WorkerArgs } from './worker-command.js';

export interface SubmitSlurmOptions extends WorkerArgs {
  /** JOB_DIR as given: absolute, or relative to cwd. */
  jobDir: string;
  /** Array tasks, one worker each. */
  workers: number;
  partition?: string | undefined;
  /** Passed to sbatch as they are, after skill-eval's own options (so they override them). */
  sbatchArgs?: readonly string[] | undefined;
  /** Write the script and say what would run, without calling sbatch. */
  dryRun?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** How long sbatch may take to answer (a controller that does not answer makes it retry for minutes). */
  timeoutMs?: number | undefined;
}

export interface SlurmSubmission {
  jobDir: string;
  jobId: string;
  trials: number;
  workers: number;
  script: string;
  /** Where each array task's output goes (`%A` the Slurm job id, `%a` the task index). */
  logPattern: string;
  /** The sbatch command line run (or that would run, with --dry-run). */
  command: string[];
  /** Undefined with --dry-run. */
  slurmJobId?: string | undefined;
  cluster?: string | undefined;
}

/** Where the submit files live inside a job dir. */
export function slurmPaths(jobDir: string): { dir: string; script: string; logPattern: string; record: string } {
  const dir = join(jobDir, 'slurm');
  return {
    dir,
    script: join(dir, 'worker.sbatch'),
    logPattern: join(dir, 'worker-%A_%a.log'),
    record: join(dir, 'submissions.jsonl'),
  };
}

/** Slurm job names: letters, digits and `._-` are safe in every squeue format. */
function slurmJobName(jobId: string): string {
  return `skill-eval-${jobId.replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64);
}

/**
 * The batch script: an array job whose every task runs one `skill-eval worker` on the job. The workers share the job
 * through its claims, so the array index is not needed to split the work; it only names the log.
 */
export function slurmBatchScript(options: {
  jobDir: string;
  jobId: string;
  workers: number;
  partition?: string | undefined;
  worker: WorkerArgs;
}): string {
  const { logPattern } = slurmPaths(options.jobDir);
  const directives = [
    `--job-name=${slurmJobName(options.jobId)}`,
    `--array=0-${options.workers - 1}`,
    `--output=${logPattern}`,
    ...(options.partition ? [`--partition=${options.partition}`] : []),
  ];
  return [
    '#!/bin/bash',
    ...directives.map((directive) => `#SBATCH ${directive}`),
    `# Written by \`skill-eval submit slurm\`: ${options.workers} workers on job ${options.jobId} (docs/scale.md).`,
    '# Each array task is one worker; workers take unclaimed trials until none is left.',
    'set -euo pipefail',
    'echo "skill-eval worker: Slurm job ${SLURM_ARRAY_JOB_ID:-?} task ${SLURM_ARRAY_TASK_ID:-?} on $(hostname)"',
    `exec ${shellJoin(localWorkerCommand(options.jobDir, options.worker))}`,
    '',
  ].join('\n');
}

function checkOptions(options: SubmitSlurmOptions): void {
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new UsageError(`--workers: expected a whole number ≥ 1, found ${options.workers}`);
  if (options.partition !== undefined && !/^[A-Za-z0-9._-]+$/.test(options.partition))
    throw new UsageError(`--partition: expected a Slurm partition name, found ${JSON.stringify(options.partition)}`);
}

/** Runs `sbatch --parsable`: its answer is `JOBID` or `JOBID;CLUSTER`. */
async function runSbatch(
  command: string[],
  options: { cwd: string; signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<{ slurmJobId: string; cluster?: string | undefined }> {
  const result = await execa(command[0]!, command.slice(1), {
    cwd: options.cwd,
    reject: false,
    stdin: 'ignore',
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
  });
  if (result.isCanceled) throw new InterruptedError('sbatch cancelled');
  if ((result as { code?: string }).code === 'ENOENT') {
    throw new InfraError('sbatch not found on PATH: this machine cannot submit Slurm jobs', {
      retryable: false,
      hint: "run this on a Slurm login node (with Slurm's client tools installed), or use --dry-run to write the batch script only",
    });
  }
  const stderr = String(result.stderr).trim();
  if (result.timedOut)
    throw new InfraError(`sbatch did not answer within ${Math.round(options.timeoutMs / 1000)} s`, {
      hint: 'is slurmctld up? (`scontrol ping`)',
    });
  const answer = String(result.stdout).trim().split('\n').pop() ?? '';
  const match = /^(\d+)(?:;(\S+))?$/.exec(answer);
  if (result.exitCode !== 0 || !match) {
    throw new InfraError(`sbatch refused the job: ${stderr || answer || `exit code ${result.exitCode}`}`, {
      retryable: false,
      hint: `the command was: ${shellJoin(command)}`,
    });
  }
  return { slurmJobId: match[1]!, cluster: match[2] };
}

/**
 * `skill-eval submit slurm JOB_DIR --workers N`: writes JOB_DIR/slurm/worker.sbatch, submits it as an array job of N
 * workers and records the Slurm job id in JOB_DIR/slurm/submissions.jsonl.
 */
export async function submitSlurm(options: SubmitSlurmOptions, cwd: string): Promise<SlurmSubmission> {
  checkOptions(options);
  const job = await openJobDir(options.jobDir, cwd);
  const paths = slurmPaths(job.dir);
  const worker: WorkerArgs = { concurrency: options.concurrency, staleClaimTimeout: options.staleClaimTimeout };
  await mkdir(paths.dir, { recursive: true });
  await writeFileAtomic(
    paths.script,
    slurmBatchScript({
      jobDir: job.dir,
      jobId: job.config.job_id,
      workers: options.workers,
      partition: options.partition,
      worker,
    }),
  );
  const command = ['sbatch', '--parsable', ...(options.sbatchArgs ?? []), paths.script];
  const submission: SlurmSubmission = {
    jobDir: job.dir,
    jobId: job.config.job_id,
    trials: job.trials,
    workers: options.workers,
    script: paths.script,
    logPattern: paths.logPattern,
    command,
  };
  if (options.dryRun) return submission;
  const answer = await runSbatch(command, { cwd, signal: options.signal, timeoutMs: options.timeoutMs ?? 60_000 });
  const record = {
    slurm_job_id: answer.slurmJobId,
    ...(answer.cluster ? { cluster: answer.cluster } : {}),
    submitted_at: new Date().toISOString(),
    workers: options.workers,
    command: shellJoin(command),
  };
  await appendFile(paths.record, `${JSON.stringify(record)}\n`);
  return { ...submission, slurmJobId: answer.slurmJobId, cluster: answer.cluster };
}

/** What the CLI prints after a submission: where it went and how to follow it. */
export function formatSlurmSubmission(submission: SlurmSubmission): string {
  const logs = submission.logPattern.replace('%A', submission.slurmJobId ?? '<id>').replace('%a', '<task>');
  const head = submission.slurmJobId
    ? `submitted Slurm job ${submission.slurmJobId}${submission.cluster ? ` on cluster ${submission.cluster}` : ''}: ${submission.workers} worker(s) on job ${submission.jobId} (${submission.trials} trials)`
    : `dry run: would submit ${submission.workers} worker(s) on job ${submission.jobId} (${submission.trials} trials)`;
  const lines = [
    head,
    `  script   ${submission.script}`,
    `  logs     ${logs}`,
    `  sbatch   ${shellJoin(submission.command)}`,
  ];
  if (submission.slurmJobId) {
    lines.push(
      `follow it: skill-eval status ${shellQuote(submission.jobDir)}`,
      `           squeue --jobs=${submission.slurmJobId}`,
      `cancel it: scancel ${submission.slurmJobId}`,
    );
  }
  return lines.join('\n');
}
