import type { Agent, AgentRunResult, Arm } from '../../agents/types.js';
import type { Workspace } from '../../environments/types.js';
import { AgentError, errorMessage, InfraError } from '../../errors.js';
import type { Task } from '../../task/types.js';
import type { SessionLog } from '../../util/session-log.js';
import { AgentDeadline } from './agent-deadline.js';

/** How the agent phase ended. Only an InfraError is thrown instead: the trial then has no agent outcome. */
export interface AgentOutcome {
  /** What the agent reported; absent when it failed or the trial stopped waiting for it. */
  result?: AgentRunResult | undefined;
  /** The deadline passed (the agent may still have finished within the grace period). */
  timedOut: boolean;
  /** Why the agent failed on its own (crash, bad exit) — not set for a timeout or a cancel. */
  failure?: string | undefined;
  /** It failed before its first model call (bad flag, auth): worth another attempt. */
  failedBeforeModel: boolean;
}

export interface AgentPhaseInput {
  agent: Agent;
  task: Task;
  arm: Arm;
  model?: string | undefined;
  /** What the agent is told; the task's instruction unless its arm changes it (skill-as-prompt, self-generated). */
  instruction?: string | undefined;
  workspace: Workspace;
  /** Where the skills were placed; empty in the no-skills arm. */
  skillDirs: string[];
  env: Record<string, string>;
  timeoutMs: number;
  /** The trial's cancel signal. */
  signal?: AbortSignal | undefined;
  /** Aborted when the trial's model gateway wants the agent stopped (its budget, a replay miss, upstream down). */
  stop?: AbortSignal | undefined;
  log: SessionLog;
}

/** agent: runs the agent under its own timeout (abort, a grace period, then stop waiting) and logs how it ended. */
export async function runAgent(input: AgentPhaseInput): Promise<AgentOutcome> {
  const { agent, task, workspace, log } = input;
  const deadline = new AgentDeadline(input.timeoutMs, input.signal, input.stop);
  let outcome: AgentOutcome;
  try {
    const settled = await deadline.race(
      agent.run({
        task,
        instruction: input.instruction ?? task.instruction,
        workspace,
        paths: workspace.paths,
        arm: input.arm,
        skillDirs: input.skillDirs,
        env: input.env,
        model: input.model,
        signal: deadline.signal,
        timeoutMs: input.timeoutMs,
        log,
      }),
    );
    const result = settled === 'timeout' || settled === 'cancel' ? undefined : settled;
    outcome = { result, timedOut: deadline.expired, failedBeforeModel: false };
  } catch (caught) {
    if (caught instanceof InfraError) throw caught;
    const stopped = deadline.expired || input.signal?.aborted === true || input.stop?.aborted === true;
    outcome = { timedOut: deadline.expired, ...agentFailure(caught, stopped) };
  } finally {
    deadline.clear();
  }
  log.record({
    type: 'agent_result',
    finalMessage: outcome.result?.finalMessage,
    usage: outcome.result?.usage,
    skillsActivated: outcome.result?.skillsActivated,
    error: outcome.failure,
    timedOut: outcome.timedOut,
  });
  return outcome;
}

/** An agent stopped by a timeout, a cancel or its gateway fails on purpose: that is not its failure. */
function agentFailure(caught: unknown, stopped: boolean): Pick<AgentOutcome, 'failure' | 'failedBeforeModel'> {
  if (stopped) return { failedBeforeModel: false };
  const message = errorMessage(caught);
  if (caught instanceof AgentError && caught.beforeFirstModelCall)
    return { failure: `${message} (before the first model call)`, failedBeforeModel: true };
  return { failure: message, failedBeforeModel: false };
}
