import { GATEWAY_IMAGE_NODE } from '../../gateway/forwarder.js';
import type { TrialGateway, TrialGatewayOutcome } from '../../gateway/trial.js';
import type { TrialRuntime } from '../types.js';
import { type AgentOutcome, type AgentPhaseInput, runAgent } from './agent.js';

/**
 * The agent through a model gateway when there is one — started now, the agent's env holding only its token and
 * URL, its workspace routed to it; closed (every call written to `callsDir`) as soon as the agent is done, so
 * nothing the agent left running can call it afterwards. Used by the agent phase and the self-generated arm's
 * writing phase alike.
 */
export async function runAgentRouted(
  gateway: TrialGateway | undefined,
  runtime: TrialRuntime,
  input: AgentPhaseInput,
  callsDir: string,
): Promise<{ outcome: AgentOutcome; model?: TrialGatewayOutcome | undefined }> {
  if (!gateway) return { outcome: await runAgent(input) };
  const routed = await gateway.start({
    workspace: input.workspace,
    env: input.env,
    trialDir: callsDir,
    redactor: runtime.redactor,
    node: runtime.provider.usesImages ? GATEWAY_IMAGE_NODE : process.execPath,
    signal: runtime.signal,
  });
  try {
    const outcome = await runAgent({ ...input, env: routed.env, workspace: routed.workspace, stop: routed.stopped });
    return { outcome, model: await gateway.finish() };
  } finally {
    // Idempotent: closes it also when the agent phase threw (cancel, an infrastructure error).
    await gateway.finish();
  }
}
