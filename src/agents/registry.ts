import { UsageError } from '../errors.js';
import { createAcpAgent } from './acp/agent.js';
import { claudeAgent } from './claude.js';
import { codexAgent } from './codex.js';
import { type CommandAgentOptions, createCommandAgent } from './command.js';
import { geminiAgent } from './gemini.js';
import { nopAgent } from './nop.js';
import { opencodeAgent } from './opencode.js';
import { oracleAgent } from './oracle.js';
import type { Agent } from './types.js';

/** Every agent skill-eval can run, by the name users type (`--agent=…`). */
export const agents = {
  oracle: oracleAgent,
  nop: nopAgent,
  claude: claudeAgent,
  codex: codexAgent,
  gemini: geminiAgent,
  opencode: opencodeAgent,
} satisfies Record<string, Agent>;

/** An agent the user brings: built per job from a command line given in its flag. */
export interface ConfigurableAgent {
  /** The flag that carries the command line (`--command`). */
  flag: string;
  /** The option of EvalJobOptions that flag sets. */
  option: 'command' | 'acpCommand';
  description: string;
  create(options: CommandAgentOptions): Agent;
}

/** Agents that need a command line (`--agent=command --command "…"`, `--agent=acp --acp-command "…"`). */
export const configurableAgents = {
  command: {
    flag: '--command',
    option: 'command',
    description:
      'Your own executable: the instruction on stdin and in $SKILL_EVAL_INSTRUCTION_FILE, run in the workdir.',
    create: createCommandAgent,
  },
  acp: {
    flag: '--acp-command',
    option: 'acpCommand',
    description: 'Any Agent Client Protocol agent over stdio, driven by an ACP client inside the environment.',
    create: createAcpAgent,
  },
} satisfies Record<string, ConfigurableAgent>;

export function isConfigurableAgent(name: string): name is keyof typeof configurableAgents {
  return Object.hasOwn(configurableAgents, name);
}

export function agentNames(): string[] {
  return [...Object.keys(agents), ...Object.keys(configurableAgents)];
}

/** An agent by name; a configurable one only with its command line (`config`). */
export function getAgent(name: string, config?: CommandAgentOptions): Agent {
  if (isConfigurableAgent(name)) {
    const configurable: ConfigurableAgent = configurableAgents[name];
    if (config === undefined)
      throw new UsageError(`agent "${name}" needs a command line: ${configurable.flag} "…"`, {
        hint: `e.g. --agent=${name} ${configurable.flag} "./my-agent.sh" (skill-eval eval only)`,
      });
    return configurable.create(config);
  }
  if (!Object.hasOwn(agents, name)) {
    throw new UsageError(`unknown agent "${name}"`, { hint: `known agents: ${agentNames().join(', ')}` });
  }
  return agents[name as keyof typeof agents];
}
