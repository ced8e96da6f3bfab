import { resolve } from 'node:path';
import { DEFAULT_STALE_CLAIM_SEC, describeOwner } from '../jobs/claims.js';
import { type JobStatus, jobStatus } from '../jobs/job-status.js';
import { positiveNumber } from './eval.js';
import type { RegisterCommand } from './registry.js';

function renderStatus(status: JobStatus): string {
  const statuses = Object.entries(status.statuses)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
  const lines = [
    `job ${status.job_id}: ${status.up_to ? 'up to ' : ''}${status.planned} trials — ${status.done} done${statuses ? ` (${statuses})` : ''}, ${status.running} running, ${status.pending} pending${status.stale > 0 ? `, ${status.stale} with a stale claim` : ''}`,
  ];
  const live = status.workers.filter((w) => w.alive);
  lines.push(
    live.length === 0
      ? 'workers: none alive'
      : `workers: ${live.map((w) => `${describeOwner(w.owner)} (${w.command}, concurrency ${w.concurrency}, heartbeat ${w.heartbeat_age_sec} s ago)`).join('; ')}`,
  );
  for (const t of status.trials.filter((t) => t.state === 'running'))
    lines.push(`  running  ${t.name}  ${describeOwner(t.owner!)}, heartbeat ${t.heartbeat_age_sec} s ago`);
  for (const t of status.trials.filter((t) => t.state === 'stale'))
    lines.push(`  stale    ${t.name}  ${describeOwner(t.owner!)}: ${t.reason}; the next worker takes it over`);
  const complete = status.done === status.planned || (status.up_to && status.finalized && status.running === 0);
  lines.push(
    complete && status.finalized
      ? 'complete: summary.json and the reports are written'
      : status.finalized
        ? 'summary.json and the reports were written for the trials done then'
        : 'summary.json and the reports are not written yet (the last worker to finish writes them)',
  );
  return lines.join('\n');
}

/** `skill-eval status JOB_DIR`: progress across the job's workers: done, running (and by whom), pending, stale. */
export const registerStatus: RegisterCommand = (program) => {
  program
    .command('status')
    .description(
      "Show a job's progress across all its workers: trials done, running (with their owner), pending, stale claims.",
    )
    .argument('<job-dir>', 'the job directory (<results-dir>/jobs/<id>)')
    .option(
      '--stale-claim-timeout <sec>',
      `call another host's claim stale when its heartbeat is older than this (default ${DEFAULT_STALE_CLAIM_SEC})`,
      positiveNumber('--stale-claim-timeout'),
    )
    .option('--json', 'print the status as JSON on stdout', false)
    .action(async (jobDir: string, flags: { staleClaimTimeout?: number; json: boolean }) => {
      const status = await jobStatus(resolve(process.cwd(), jobDir), { staleClaimSec: flags.staleClaimTimeout });
      process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status)}\n`);
    });
};
