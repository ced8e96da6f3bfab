import { UsageError } from '../errors.js';
import { claudeAgent } from './claude.js';
import { codexAgent } from './codex.js';
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

export function getAgent(name: string): Agent {
  if (!Object.hasOwn(agents, name)) {
    throw new UsageError(`unknown agent "${name}"`, { hint: `known agents: ${Object.keys(agents).join(', ')}` });
  }
  return agents[name as keyof typeof agents];
}
