import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { ExecResult, Workspace } from '../../environments/types.js';
import { type VerificationRequest, verifyStepByStep } from '../../environments/verification.js';
import type { TrialResult } from '../../results/schema.js';
import type { Task } from '../../task/types.js';
import type { Redactor } from '../../util/secrets.js';
import type { SessionLog } from '../../util/session-log.js';
import { type RewardReading, readReward } from '../reward.js';

export type VerifierSummary = NonNullable<TrialResult['verifier']>;

/** The verifier's run: its summary for the result, what the verdict is read from, and how long collecting took. */
export interface VerifierRun {
  summary: VerifierSummary;
  result: ExecResult;
  collectMs: number;
}

/** A reward, or — `ok: false` — the message of the trial's verifier error. */
export type Verdict = RewardReading;

/** The skill-eval fallback reward path, relative to the workdir. */
const RELATIVE_REWARD = 'logs/verifier/reward.txt';

/**
 * What verification does (the provider chooses how): remove whatever the agent could have planted, copy the
 * tests in only now, run them, and collect the logs — the reward is then read from the copy, not the environment.
 */
export function verificationRequest(
  workspace: Workspace,
  task: Task,
  options: {
    trialDir: string;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    /** false when no grader is the verifier: the reset, tests and collect still happen, test.sh does not run. */
    runTests?: boolean | undefined;
  },
): VerificationRequest {
  const { paths } = workspace;
  const { trialDir } = options;
  return {
    remove: [
      paths.solution,
      paths.logsVerifier,
      paths.tests,
      posix.join(paths.workdir, RELATIVE_REWARD),
      posix.join(paths.workdir, 'logs/verifier/reward.json'),
    ],
    logsDir: paths.logsVerifier,
    owner: task.config.verifier.user,
    testsHostDir: task.paths.testsDir,
    testsPath: paths.tests,
    command: options.runTests === false ? 'true' : `bash ${posix.join(paths.tests, 'test.sh')}`,
    options: {
      env: task.config.verifier.env,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      user: task.config.verifier.user,
    },
    collect: [
      { from: paths.logsAgent, to: join(trialDir, 'agent') },
      { from: paths.logsVerifier, to: join(trialDir, 'verifier') },
      { from: paths.logsArtifacts, to: join(trialDir, 'artifacts') },
    ],
    staging: join(trialDir, '.logs-download'),
  };
}

/** verifier, first half: runs the tests and collects the logs (batched by the provider when it can). */
export async function runVerifier(
  workspace: Workspace,
  request: VerificationRequest,
  log: SessionLog,
): Promise<VerifierRun> {
  const run = workspace.verify ? workspace.verify(request) : verifyStepByStep(workspace, request);
  const { result, collectMs, skipped } = await run;
  for (const entry of skipped ?? []) log.record({ type: 'note', text: `left out of the collected logs: ${entry}` });
  log.record({
    type: 'verifier',
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    stdout: result.stdout,
    stderr: result.stderr,
    durationMs: result.durationMs,
  });
  const summary = { exit_code: result.exitCode, timed_out: result.timedOut, duration_ms: result.durationMs };
  return { summary, result, collectMs };
}

export interface VerdictInput {
  workspace: Workspace;
  trialDir: string;
  redactor: Redactor;
  log: SessionLog;
}

/**
 * verifier, second half: keeps the tests' output and reads the reward from the collected logs. A verifier that
 * timed out or left no valid reward gives a verifier error: nothing the agent left can stand in for a reward.
 */
export async function readVerdict(run: VerifierRun, input: VerdictInput): Promise<Verdict> {
  const { result } = run;
  const verifierDir = join(input.trialDir, 'verifier');
  if (!existsSync(verifierDir)) mkdirSync(verifierDir, { recursive: true });
  writeFileSync(join(verifierDir, 'test-stdout.txt'), input.redactor.redact(result.stdout));
  writeFileSync(join(verifierDir, 'test-stderr.txt'), input.redactor.redact(result.stderr));
  if (result.timedOut) return { ok: false, message: `tests/test.sh did not finish within ${result.durationMs} ms` };

  const rewardTxt = readIfExists(join(verifierDir, 'reward.txt'));
  const rewardJson = readIfExists(join(verifierDir, 'reward.json'));
  const { workspace } = input;
  const reading = readReward({
    rewardTxt,
    rewardJson,
    fallbackTxt:
      rewardTxt || rewardJson
        ? undefined
        : await workspace.readFile(posix.join(workspace.paths.workdir, RELATIVE_REWARD)),
    names: {
      rewardTxt: '/logs/verifier/reward.txt',
      rewardJson: '/logs/verifier/reward.json',
      fallbackTxt: `${RELATIVE_REWARD} (relative to the workdir)`,
    },
  });
  if (!reading.ok) {
    input.log.record({ type: 'reward', error: reading.message });
    return { ok: false, message: `${reading.message} (test.sh exit code ${result.exitCode ?? 'unknown'})` };
  }
  input.log.record({ type: 'reward', reward: reading.reward, source: reading.source });
  return reading;
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    throw error;
  }
}
