import { ensureInstalledOutsideTrial } from '../cli/install.js';
import { cliCommand, finishRun, locateCli, newRecorder, runCli } from '../cli/run.js';
import { type CommandAgentOptions, writeInstruction } from '../command.js';
import type { Agent, AgentRunContext, AgentRunResult } from '../types.js';
import { ACP_BRIDGE_PACKAGE } from './package.js';
import { AcpStreamParser } from './stream.js';

/**
 * Any agent that speaks the Agent Client Protocol over stdio (`--agent=acp --acp-command "…"`). The ACP client is
 * skill-eval's bridge (bridge.mjs), run inside the trial's environment like an agent CLI: it starts the command
 * there, so the agent edits files and runs commands where the task is. Permissions are all approved; commands the
 * agent asks the client to run (terminal/*) run in the environment and are recorded with their exit codes.
 */

/** An ACP agent may be any of them: every skills directory the CLI agents know gets the skills. */
const ACP_SKILL_DIRS = ['.claude/skills', '.agents/skills', '.gemini/skills', '.opencode/skill'];

async function runAcp(options: CommandAgentOptions, context: AgentRunContext): Promise<AgentRunResult> {
  const variables = await writeInstruction(context);
  const cli = await locateCli(ACP_BRIDGE_PACKAGE, context.workspace, context.signal);
  const invocation = cliCommand(cli, []);
  const recorder = newRecorder(context, ACP_SKILL_DIRS);
  const parser = new AcpStreamParser(recorder, context.log);
  const outcome = await runCli('acp', context, {
    command: invocation.command,
    stdin: context.instruction,
    env: { ...context.env, ...variables, SKILL_EVAL_ACP_COMMAND: options.command, ...invocation.env },
    onLine: (line) => parser.onLine(line),
  });
  parser.flushText();
  if (!outcome.stopped && recorder.failure === undefined && parser.stopReason === undefined)
    recorder.failure = 'the ACP session ended without a prompt response';
  // ACP does not count model calls (the recorder's is a lower bound for the failure check): none is recorded.
  return { ...finishRun('acp', outcome, recorder, parser.usage), modelCalls: undefined };
}

/** The `acp` agent for one agent command line. */
export function createAcpAgent(options: CommandAgentOptions): Agent {
  return {
    name: 'acp',
    description: `An Agent Client Protocol agent (--acp-command), driven through ${ACP_BRIDGE_PACKAGE.npmPackage}@${ACP_BRIDGE_PACKAGE.version} in the environment.`,
    requiredEnv: [],
    skillDirs: ACP_SKILL_DIRS,
    usesSolution: false,
    command: options.command,
    callsModelApi: true,
    install: async (install) => {
      await ensureInstalledOutsideTrial(ACP_BRIDGE_PACKAGE, install);
    },
    // Loaded on demand: it pulls in the Docker engine client.
    imageLayer: async (layer) => (await import('../cli/image-layer.js')).agentImageLayer(ACP_BRIDGE_PACKAGE, layer),
    run: (context) => runAcp(options, context),
  };
}
