import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Agent, AgentRunResult, Arm } from '../agents/types.js';
import type { EnvironmentProvider, PreparedEnvironment, Workspace } from '../environments/types.js';
import { type VerificationRequest, verifyStepByStep } from '../environments/verification.js';
import { AgentError, errorMessage, InfraError, InterruptedError } from '../errors.js';
import type { TrialResult, TrialStatus } from '../results/schema.js';
import { skillDigest } from '../skills/types.js';
import type { Task } from '../task/types.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import type { Redactor } from '../util/secrets.js';
import { SessionLog } from '../util/session-log.js';
import { SKILL_EVAL_VERSION } from '../version.js';
import { readReward } from './reward.js';

/** What to run: one task × one agent (+model) × one arm, the n-th time. */
export interface TrialSpec {
  jobId: string;
  task: Task;
  agent: Agent;
  model?: string | undefined;
  arm: Arm;
  /** 1-based index within the task × agent × model × arm cell. */
  trialIndex: number;
}

export interface TrialRuntime {
  provider: EnvironmentProvider;
  /** The task's prepared environment (memoized by the caller: one build per task per job). Failing here is an infra error of this trial. */
  prepare: () => Promise<PreparedEnvironment>;
  /** The trial's own directory (created here). */
  trialDir: string;
  /** Forwarded to the agent (keys, --env). */
  env: Record<string, string>;
  redactor: Redactor;
  /** Cancels the whole trial (Ctrl-C): the trial cleans up and throws InterruptedError; no result is written. */
  signal?: AbortSignal | undefined;
  /** Overrides task.toml's timeouts (seconds). */
  agentTimeoutSec?: number | undefined;
  verifierTimeoutSec?: number | undefined;
  /** Reward at or above which a trial counts as passed. */
  passThreshold?: number | undefined;
  /** Earlier attempts that ended in retryable infra failures, recorded in the result. */
  retries?: TrialResult['retries'] | undefined;
  onPhase?: ((phase: string) => void) | undefined;
}

export function trialName(spec: Pick<TrialSpec, 'task' | 'agent' | 'model' | 'arm' | 'trialIndex'>): string {
  const agent = spec.model ? `${spec.agent.name}-${spec.model}` : spec.agent.name;
  return `${spec.task.name}__${agent}__${spec.arm}__${spec.trialIndex}`.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/** Skill folders resolve against the workdir, `~/…` against HOME, absolute paths as they are. */
function skillTargets(agent: Agent, task: Task, workspace: Workspace): string[] {
  const dirs = [...agent.skillDirs];
  if (task.config.environment.skillsDir) dirs.push(task.config.environment.skillsDir);
  const targets = dirs.map((dir) => {
    if (dir.startsWith('~/')) return join(workspace.paths.home, dir.slice(2));
    if (dir.startsWith('/')) return dir;
    return join(workspace.paths.workdir, dir);
  });
  return [...new Set(targets)];
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR')
      return undefined;
    throw error;
  }
}

class PhaseClock {
  readonly phases: Record<string, number> = {};
  constructor(
    private readonly log: SessionLog,
    private readonly onPhase?: (phase: string) => void,
  ) {}
  async run<T>(phase: string, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.onPhase?.(phase);
    this.log.record({ type: 'phase', phase, state: 'start' });
    try {
      return await body();
    } finally {
      const durationMs = Math.round(performance.now() - started);
      this.phases[`${phase}_ms`] = (this.phases[`${phase}_ms`] ?? 0) + durationMs;
      this.log.record({ type: 'phase', phase, state: 'end', durationMs });
    }
  }
}

/**
 * The trial lifecycle, written once for every provider and agent:
 * fresh workspace → skills (with-skills arm only) → agent under its timeout → verifier, always (also after an
 * agent timeout or crash): tests copied in only now, /logs/verifier emptied first → reward → logs collected →
 * cleanup, always. Returns the result (also written to `result.json`); throws only InterruptedError on cancel.
 */
export async function runTrial(spec: TrialSpec, runtime: TrialRuntime): Promise<TrialResult> {
  const { task, agent, arm } = spec;
  const name = trialName(spec);
  const trialId = randomBytes(6).toString('hex');
  const startedAt = new Date();
  const started = performance.now();
  // The trial's own files are small: written synchronously (bench/jobs/throughput.ts: half the CPU of async
  // calls), atomically but not fsync'd — a kill -9 sees a whole result.json or none; only an OS crash can leave
  // one empty, and resume then runs that trial again (it never counts a torn result).
  mkdirSync(runtime.trialDir, { recursive: true });
  const log = new SessionLog(join(runtime.trialDir, 'session.jsonl'), runtime.redactor);
  const clock = new PhaseClock(log, runtime.onPhase);
  const injectedSkills = arm === 'with-skills' ? task.skills : [];

  writeJsonAtomicSync(join(runtime.trialDir, 'config.json'), {
    job_id: spec.jobId,
    trial_id: trialId,
    trial_name: name,
    task: task.name,
    task_dir: task.dir,
    task_checksum: task.checksum,
    agent: agent.name,
    model: spec.model,
    provider: runtime.provider.name,
    arm,
    trial_index: spec.trialIndex,
    agent_timeout_sec: runtime.agentTimeoutSec ?? task.config.agent.timeoutSec,
    verifier_timeout_sec: runtime.verifierTimeoutSec ?? task.config.verifier.timeoutSec,
    skills: injectedSkills.map(skillDigest),
  });
  log.record({ type: 'instruction', text: task.instruction });

  let workspace: Workspace | undefined;
  let status: TrialStatus | undefined;
  let error: TrialResult['error'];
  let agentResult: AgentRunResult | undefined;
  let agentTimedOut = false;
  let agentFailure: string | undefined;
  let agentFailedBeforeModel = false;
  let reward: number | undefined;
  let rewards: Record<string, number> | undefined;
  let rewardSource: string | undefined;
  let verifier: TrialResult['verifier'];
  const cancelled = (): boolean => runtime.signal?.aborted === true;

  try {
    workspace = await clock.run('environment_setup', async () =>
      runtime.provider.createWorkspace(await runtime.prepare(), {
        jobId: spec.jobId,
        trialId,
        trialName: name,
        signal: runtime.signal,
      }),
    );
    const ws = workspace;

    // Skills: only in the with-skills arm, into every folder this agent discovers.
    const skillDirs = injectedSkills.length > 0 ? skillTargets(agent, task, ws) : [];
    if (injectedSkills.length > 0) {
      await clock.run('skills', async () => {
        for (const target of skillDirs)
          for (const skill of injectedSkills) await ws.upload(skill.dir, posix.join(target, skill.name));
      });
      log.record({ type: 'skills', injected: injectedSkills.map((s) => s.name), into: skillDirs });
    }
    if (agent.usesSolution && task.paths.solutionDir) await ws.upload(task.paths.solutionDir, ws.paths.solution);

    // Agent: its own timeout, enforced here whatever the agent does with the signal.
    const agentTimeoutMs = (runtime.agentTimeoutSec ?? task.config.agent.timeoutSec) * 1000;
    await clock.run('agent', async () => {
      const timeout = new AbortController();
      const signal = runtime.signal ? AbortSignal.any([runtime.signal, timeout.signal]) : timeout.signal;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => {
          agentTimedOut = true;
          timeout.abort(new Error('agent timeout'));
          // Give the agent a moment to stop on its own, then stop waiting for it.
          setTimeout(() => resolve('timeout'), 5_000).unref();
        }, agentTimeoutMs);
      });
      let onCancel: (() => void) | undefined;
      const cancel = new Promise<'cancel'>((resolve) => {
        onCancel = () => resolve('cancel');
        runtime.signal?.addEventListener('abort', onCancel, { once: true });
      });
      try {
        const outcome = await Promise.race([
          agent.run({
            task,
            instruction: task.instruction,
            workspace: ws,
            paths: ws.paths,
            arm,
            skillDirs,
            env: runtime.env,
            model: spec.model,
            signal,
            timeoutMs: agentTimeoutMs,
            log,
          }),
          deadline,
          cancel,
        ]);
        if (outcome !== 'timeout' && outcome !== 'cancel') agentResult = outcome;
      } catch (caught) {
        if (caught instanceof InfraError) throw caught;
        if (!agentTimedOut && !cancelled()) agentFailure = errorMessage(caught);
        if (caught instanceof AgentError && caught.beforeFirstModelCall && agentFailure !== undefined) {
          agentFailedBeforeModel = true;
          agentFailure = `${agentFailure} (before the first model call)`;
        }
      } finally {
        clearTimeout(timer);
        if (onCancel) runtime.signal?.removeEventListener('abort', onCancel);
      }
      log.record({
        type: 'agent_result',
        finalMessage: agentResult?.finalMessage,
        usage: agentResult?.usage,
        skillsActivated: agentResult?.skillsActivated,
        error: agentFailure,
        timedOut: agentTimedOut,
      });
    });
    if (cancelled()) throw new InterruptedError('trial cancelled');

    // Verifier: runs even after an agent timeout or crash. Nothing the agent left can stand in for a reward.
    await clock.run('verifier', async () => {
      // Tests arrive only now, after every agent process is stopped and everything it could have planted is gone.
      const request: VerificationRequest = {
        remove: [
          ws.paths.solution,
          ws.paths.logsVerifier,
          ws.paths.tests,
          posix.join(ws.paths.workdir, 'logs/verifier/reward.txt'),
          posix.join(ws.paths.workdir, 'logs/verifier/reward.json'),
        ],
        logsDir: ws.paths.logsVerifier,
        owner: task.config.verifier.user,
        testsHostDir: task.paths.testsDir,
        testsPath: ws.paths.tests,
        command: `bash ${posix.join(ws.paths.tests, 'test.sh')}`,
        options: {
          env: task.config.verifier.env,
          timeoutMs: (runtime.verifierTimeoutSec ?? task.config.verifier.timeoutSec) * 1000,
          signal: runtime.signal,
          user: task.config.verifier.user,
        },
        // Logs come out with the verification; the reward is then read from the copy, not from the environment.
        collect: [
          { from: ws.paths.logsAgent, to: join(runtime.trialDir, 'agent') },
          { from: ws.paths.logsVerifier, to: join(runtime.trialDir, 'verifier') },
          { from: ws.paths.logsArtifacts, to: join(runtime.trialDir, 'artifacts') },
        ],
        staging: join(runtime.trialDir, '.logs-download'),
      };
      const { result, collectMs, skipped } = ws.verify ? await ws.verify(request) : await verifyStepByStep(ws, request);
      clock.phases.collect_ms = collectMs;
      for (const entry of skipped ?? []) log.record({ type: 'note', text: `left out of the collected logs: ${entry}` });
      verifier = { exit_code: result.exitCode, timed_out: result.timedOut, duration_ms: result.durationMs };
      log.record({
        type: 'verifier',
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        stdout: result.stdout,
        stderr: result.stderr,
        durationMs: result.durationMs,
      });
      if (cancelled()) throw new InterruptedError('trial cancelled');

      const verifierDir = join(runtime.trialDir, 'verifier');
      if (!existsSync(verifierDir)) mkdirSync(verifierDir, { recursive: true });
      writeFileSync(join(verifierDir, 'test-stdout.txt'), runtime.redactor.redact(result.stdout));
      writeFileSync(join(verifierDir, 'test-stderr.txt'), runtime.redactor.redact(result.stderr));
      if (result.timedOut) {
        status = 'verifier_error';
        error = {
          kind: 'verifier',
          phase: 'verifier',
          message: `tests/test.sh did not finish within ${verifier.duration_ms} ms`,
        };
        return;
      }
      const rewardTxt = readIfExists(join(verifierDir, 'reward.txt'));
      const rewardJson = readIfExists(join(verifierDir, 'reward.json'));
      const reading = readReward({
        rewardTxt,
        rewardJson,
        fallbackTxt:
          rewardTxt || rewardJson
            ? undefined
            : await ws.readFile(posix.join(ws.paths.workdir, 'logs/verifier/reward.txt')),
        names: {
          rewardTxt: '/logs/verifier/reward.txt',
          rewardJson: '/logs/verifier/reward.json',
          fallbackTxt: 'logs/verifier/reward.txt (relative to the workdir)',
        },
      });
      if (reading.ok) {
        reward = reading.reward;
        rewards = reading.rewards;
        rewardSource = reading.source;
        log.record({ type: 'reward', reward, source: rewardSource });
      } else {
        status = 'verifier_error';
        error = {
          kind: 'verifier',
          phase: 'verifier',
          message: `${reading.message} (test.sh exit code ${result.exitCode ?? 'unknown'})`,
        };
        log.record({ type: 'reward', error: reading.message });
      }
    });
  } catch (caught) {
    if (caught instanceof InterruptedError || cancelled()) {
      log.record({ type: 'note', text: 'trial cancelled: no result written' });
      await workspace?.dispose();
      throw caught instanceof InterruptedError ? caught : new InterruptedError('trial cancelled', { cause: caught });
    }
    status = 'infra_error';
    const phase = Object.keys(clock.phases).at(-1)?.replace(/_ms$/, '') ?? 'environment_setup';
    error = {
      kind: 'infra',
      phase,
      message:
        errorMessage(caught) + (caught instanceof Error && caught.cause ? ` (${errorMessage(caught.cause)})` : ''),
      // Our own bugs are not worth retrying; engine and file-system failures are, unless they say otherwise.
      retryable: caught instanceof InfraError ? caught.retryable : false,
    };
    log.record({ type: 'note', text: `infrastructure error in ${phase}: ${error.message}` });
  } finally {
    if (workspace) await clock.run('cleanup', () => workspace!.dispose());
    log.close();
  }

  if (status === undefined) {
    if (agentTimedOut) {
      status = 'agent_timeout';
      error = {
        kind: 'agent_timeout',
        phase: 'agent',
        message: `the agent did not finish within ${runtime.agentTimeoutSec ?? task.config.agent.timeoutSec} s; verified anyway`,
      };
    } else if (agentFailure !== undefined) {
      status = 'agent_error';
      error = { kind: 'agent', phase: 'agent', message: agentFailure, retryable: agentFailedBeforeModel };
    } else {
      status = (reward ?? 0) >= (runtime.passThreshold ?? 1) ? 'passed' : 'failed';
    }
  }

  const events = agentResult?.events ?? [];
  const result: TrialResult = {
    schema: 'skill-eval/trial-result@1',
    skill_eval_version: SKILL_EVAL_VERSION,
    job_id: spec.jobId,
    trial_id: trialId,
    trial_name: name,
    trial_index: spec.trialIndex,
    task: task.name,
    task_checksum: task.checksum,
    agent: agent.name,
    model: spec.model,
    provider: runtime.provider.name,
    arm,
    status,
    reward,
    rewards,
    reward_source: rewardSource,
    error,
    timings: {
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      total_ms: Math.round(performance.now() - started),
      phases: clock.phases,
    },
    agent_result: agentResult && {
      final_message: agentResult.finalMessage,
      commands: events.filter((e) => e.type === 'command').length,
      tool_calls: events.filter((e) => e.type === 'tool_call').length,
      model_calls: agentResult.modelCalls,
    },
    usage: agentResult?.usage,
    skills: injectedSkills.map(skillDigest),
    skills_activated: agentResult?.skillsActivated,
    verifier,
    limits: workspace?.limits,
    retries: runtime.retries ?? [],
    files: { session_log: 'session.jsonl', agent: 'agent', verifier: 'verifier', artifacts: 'artifacts' },
  };
  await runtime.redactor.redactTree(runtime.trialDir);
  writeJsonAtomicSync(
    join(runtime.trialDir, 'result.json'),
    JSON.parse(runtime.redactor.redact(JSON.stringify(result))),
  );
  return result;
}
