import { posix } from 'node:path';
import { AgentError } from '../errors.js';
import { tail } from './cli/install.js';
import type { Agent, AgentRunContext, AgentRunResult } from './types.js';

/**
 * Bring your own agent (`--agent=command --command "…"`): any executable, run with bash in the trial's
 * environment, in the workdir, under the agent timeout. The instruction is on its stdin and in a file named by
 * SKILL_EVAL_INSTRUCTION_FILE. skill-eval cannot see inside it: one command event, its output, no usage.
 */

/** The instruction file, in the trial's logs/agent (collected with the trial, never seen by the verifier's tests). */
export const INSTRUCTION_FILE = 'instruction.md';

/** What a configurable agent is built from: the command line the user gave, run by bash in the environment. */
export interface CommandAgentOptions {
  command: string;
}

/** Writes the instruction into logs/agent and returns the variables that point the agent at it. */
export async function writeInstruction(context: AgentRunContext): Promise<Record<string, string>> {
  const file = posix.join(context.paths.logsAgent, INSTRUCTION_FILE);
  await context.workspace.writeFile(file, context.instruction);
  return {
    SKILL_EVAL_INSTRUCTION_FILE: file,
    SKILL_EVAL_WORKDIR: context.paths.workdir,
    SKILL_EVAL_ARM: context.arm,
    SKILL_EVAL_SKILL_DIRS: context.skillDirs.join(':'),
    ...(context.model !== undefined ? { SKILL_EVAL_MODEL: context.model } : {}),
  };
}

async function runCommand(options: CommandAgentOptions, context: AgentRunContext): Promise<AgentRunResult> {
  const at = new Date().toISOString();
  const variables = await writeInstruction(context);
  const result = await context.workspace.exec(options.command, {
    env: { ...context.env, ...variables },
    stdin: context.instruction,
    signal: context.signal,
    timeoutMs: context.timeoutMs,
    user: context.task.config.agent.user,
    // It may call a model API: an offline task keeps a path out for it, as for the agent CLIs.
    callsModelApi: true,
  });
  const logs = context.paths.logsAgent;
  await context.workspace.writeFile(posix.join(logs, 'command.stdout.txt'), result.stdout).catch(() => undefined);
  await context.workspace.writeFile(posix.join(logs, 'command.stderr.txt'), result.stderr).catch(() => undefined);
  context.log.record({
    type: 'command',
    source: 'agent',
    command: options.command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    stdout: result.stdout,
    stderr: result.stderr,
    durationMs: result.durationMs,
  });
  const events: AgentRunResult['events'] = [
    {
      type: 'command',
      at,
      command: options.command,
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
    },
  ];
  const finalMessage = tail(result.stdout, 2000);
  const stopped = result.timedOut || context.signal.aborted;
  if (stopped || result.exitCode === 0) return { events, finalMessage: finalMessage || undefined };
  const stderr = tail(result.stderr, 2000) || '(empty)';
  throw new AgentError(
    `the command agent exited with ${result.exitCode ?? result.signal ?? 'no exit code'}\n--- stderr (tail) ---\n${stderr}`,
    { hint: "its full output is in the trial's agent/ folder (command.stdout.txt, command.stderr.txt)" },
  );
}

/** The `command` agent for one command line. */
export function createCommandAgent(options: CommandAgentOptions): Agent {
  return {
    name: 'command',
    description: 'Your own executable (--command): the instruction on stdin and in $SKILL_EVAL_INSTRUCTION_FILE.',
    requiredEnv: [],
    skillDirs: ['.claude/skills', '.agents/skills', '.gemini/skills', '.opencode/skill'],
    usesSolution: false,
    command: options.command,
    run: (context) => runCommand(options, context),
  };
}
