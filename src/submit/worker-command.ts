import { fileURLToPath } from 'node:url';

/** bin/skill-eval.js of this installation (src/submit/ and dist/submit/ are both two levels below the root). */
export const SKILL_EVAL_BIN = fileURLToPath(new URL('../../bin/skill-eval.js', import.meta.url));

/** What each submitted worker is told besides the job dir (`skill-eval worker --help`). */
export interface WorkerArgs {
  /** Trials each worker runs at once. */
  concurrency?: number | undefined;
  /** Seconds after which another host's claim whose heartbeat has not moved is taken over. */
  staleClaimTimeout?: number | undefined;
}

/** `worker JOB_DIR [flags]`: the arguments after the program. */
export function workerArgs(jobDir: string, flags: WorkerArgs): string[] {
  const args = ['worker', jobDir];
  if (flags.concurrency !== undefined) args.push(`--concurrency=${flags.concurrency}`);
  if (flags.staleClaimTimeout !== undefined) args.push(`--stale-claim-timeout=${flags.staleClaimTimeout}`);
  return args;
}

/**
 * The worker as this very installation runs it, by absolute paths: this node binary and this package's bin script
 * (which runs the sources through tsx in a checkout, dist/ otherwise), so a batch job on a node that shares the file
 * system runs the same code whatever its PATH holds.
 */
export function localWorkerCommand(jobDir: string, flags: WorkerArgs): string[] {
  return [process.execPath, SKILL_EVAL_BIN, ...workerArgs(jobDir, flags)];
}
