import { renameSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InfraError } from '../errors.js';
import { removeTree } from '../util/remove-tree.js';
import { shellQuote } from '../util/shell.js';
import type { ExecOptions, ExecResult, Workspace } from './types.js';

/**
 * What the trial lifecycle asks of a workspace once the agent is done: the *what* of verification stays in
 * the lifecycle (src/trial/run-trial.ts); a provider only chooses *how* — step by step (below), or batched into
 * fewer engine round trips (the Docker provider does it in one exec).
 */
export interface VerificationRequest {
  /** Environment paths removed after every process is stopped: whatever the agent could have planted. */
  remove: string[];
  /** The verifier's log directory, recreated empty (and handed to `owner` when given). */
  logsDir: string;
  owner?: string | undefined;
  /** Host directory whose contents are copied to `testsPath` — only now, after the reset. */
  testsHostDir: string;
  testsPath: string;
  /** The verifier command and how to run it (env, user, timeout, signal). */
  command: string;
  options: ExecOptions;
  /** Environment directories copied to the host after the command (also after a timeout). */
  collect: Array<{ from: string; to: string }>;
  /** A host directory the provider may use while collecting (removed afterwards). */
  staging: string;
}

export interface VerificationOutcome {
  result: ExecResult;
  /** How long copying the logs out took (part of the verifier phase). */
  collectMs: number;
  /** Log entries left out while copying (unsafe links, devices, …), each with why. */
  skipped?: string[] | undefined;
}

/** The reset as one shell command (for workspaces whose only way in is exec). */
function resetCommand(request: Pick<VerificationRequest, 'remove' | 'logsDir' | 'owner'>): string {
  const owner = request.owner ? ` && chown ${shellQuote(request.owner)} ${shellQuote(request.logsDir)}` : '';
  return `rm -rf -- ${request.remove.map(shellQuote).join(' ')} && mkdir -p ${shellQuote(request.logsDir)}${owner}`;
}

/**
 * Copies `collect` out of the workspace; one download when every source shares a parent directory (one engine
 * round trip instead of one per directory).
 */
export async function collectStepByStep(
  download: Workspace['download'],
  collect: VerificationRequest['collect'],
  staging: string,
): Promise<void> {
  const parent = collect.length > 0 ? posix.dirname(collect[0]!.from) : '';
  if (collect.length < 2 || !collect.every(({ from }) => posix.dirname(from) === parent)) {
    for (const { from, to } of collect) await download(from, to);
    return;
  }
  if (!(await download(parent, staging))) return;
  for (const { from, to } of collect) {
    try {
      renameSync(join(staging, posix.basename(from)), to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  await removeTree(staging);
}

/** Steps a workspace can do better than the generic ones. */
export interface VerificationSteps {
  /** Instead of one `rm -rf … && mkdir -p …` exec as root. */
  reset?: (() => Promise<void>) | undefined;
  /**
   * Instead of `ws.download` for the logs: called once per directory, without the shared-parent batching
   * through `staging` (the workspace is only disposed afterwards: moving is allowed).
   */
  collect?: Workspace['download'] | undefined;
}

/**
 * Verification from the workspace's primitives: stop everything, reset, copy the tests in, run the verifier,
 * copy the logs out.
 */
export async function verifyStepByStep(
  ws: Workspace,
  request: VerificationRequest,
  steps: VerificationSteps = {},
): Promise<VerificationOutcome> {
  await ws.stopAll();
  if (steps.reset) {
    await steps.reset();
  } else {
    const reset = await ws.exec(resetCommand(request), { user: 'root' });
    if (reset.exitCode !== 0)
      throw new InfraError(
        `preparing the verifier failed (exit ${reset.exitCode ?? 'unknown'}): ${reset.stderr.trim().slice(-500)}`,
      );
  }
  await ws.upload(request.testsHostDir, request.testsPath);
  const result = await ws.exec(request.command, request.options);
  if (request.options.signal?.aborted) return { result, collectMs: 0 };
  const started = performance.now();
  if (steps.collect) {
    for (const { from, to } of request.collect) await steps.collect(from, to);
  } else {
    await collectStepByStep((from, to) => ws.download(from, to), request.collect, request.staging);
  }
  return { result, collectMs: Math.round(performance.now() - started) };
}
