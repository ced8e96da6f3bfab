import { CLAUDE_DEFAULT_MODEL, CLAUDE_PACKAGE } from '../claude.js';
import { CODEX_DEFAULT_MODEL, CODEX_PACKAGE } from '../codex.js';
import { GEMINI_DEFAULT_MODEL, GEMINI_PACKAGE } from '../gemini.js';
import { OPENCODE_DEFAULT_MODEL, OPENCODE_PACKAGE } from '../opencode.js';
import type { AgentPackage } from './install.js';

/** The agents that are real CLIs from npm: their pinned package and default model (docs/agents.md). */
export const CLI_AGENTS = {
  claude: { package: CLAUDE_PACKAGE, defaultModel: CLAUDE_DEFAULT_MODEL, endpointEnv: 'ANTHROPIC_BASE_URL' },
  codex: { package: CODEX_PACKAGE, defaultModel: CODEX_DEFAULT_MODEL, endpointEnv: 'OPENAI_BASE_URL' },
  gemini: { package: GEMINI_PACKAGE, defaultModel: GEMINI_DEFAULT_MODEL, endpointEnv: 'GOOGLE_GEMINI_BASE_URL' },
  opencode: { package: OPENCODE_PACKAGE, defaultModel: OPENCODE_DEFAULT_MODEL, endpointEnv: 'OPENAI_BASE_URL' },
} satisfies Record<string, { package: AgentPackage; defaultModel: string; endpointEnv: string }>;

export type CliAgentName = keyof typeof CLI_AGENTS;

export function isCliAgent(name: string): name is CliAgentName {
  return Object.hasOwn(CLI_AGENTS, name);
}
