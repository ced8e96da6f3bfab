import type { Command } from 'commander';
import { ACP_BRIDGE_PACKAGE } from '../agents/acp/package.js';
import {
  type AgentPackage,
  ensureInstalledOutsideTrial,
  type InstalledCli,
  installInfo,
} from '../agents/cli/install.js';
import { CLI_AGENTS, isCliAgent } from '../agents/cli/packages.js';
import { agents, configurableAgents, isConfigurableAgent } from '../agents/registry.js';
import { UsageError } from '../errors.js';
import type { RegisterCommand } from './registry.js';

/** One row of `skill-eval agents`. */
interface AgentListing {
  name: string;
  description: string;
  /** npm package and pinned version; undefined for the built-in agents (oracle, nop). */
  package?: string | undefined;
  version?: string | undefined;
  defaultModel?: string | undefined;
  /** Installed in the agent cache (always true for built-ins). */
  installed: boolean;
  cachePath?: string | undefined;
  requiredEnv: string[];
  /** Required variables that are not set here. */
  missingEnv: string[];
  /** The variable that points the agent at another endpoint (a gateway). */
  endpointEnv?: string | undefined;
  skillDirs: string[];
  /** The flag that gives a configurable agent its command line (`--command`, `--acp-command`). */
  flag?: string | undefined;
}

/** What has to be installed for an agent: its CLI, or the ACP bridge; undefined when nothing. */
function packageOf(name: string): AgentPackage | undefined {
  if (isCliAgent(name)) return CLI_AGENTS[name].package;
  return name === 'acp' ? ACP_BRIDGE_PACKAGE : undefined;
}

/** The agents built from a command line: `command` needs nothing installed, `acp` the bridge. */
async function configurableRows(env: NodeJS.ProcessEnv): Promise<AgentListing[]> {
  const rows: AgentListing[] = [];
  for (const [name, agent] of Object.entries(configurableAgents)) {
    const pkg = packageOf(name);
    const info = pkg ? await installInfo(pkg, env) : undefined;
    rows.push({
      name,
      description: agent.description,
      flag: agent.flag,
      package: pkg?.npmPackage,
      version: pkg?.version,
      installed: info?.installed ?? true,
      cachePath: info?.path,
      requiredEnv: [],
      missingEnv: [],
      skillDirs: ['.claude/skills', '.agents/skills', '.gemini/skills', '.opencode/skill'],
    });
  }
  return rows;
}

async function listAgents(env: NodeJS.ProcessEnv = process.env): Promise<AgentListing[]> {
  const rows: AgentListing[] = [];
  for (const [name, agent] of Object.entries(agents)) {
    const missingEnv = agent.requiredEnv.filter((key) => !env[key]);
    const base = {
      name,
      description: agent.description,
      requiredEnv: [...agent.requiredEnv],
      missingEnv,
      skillDirs: [...agent.skillDirs],
    };
    if (!isCliAgent(name)) {
      rows.push({ ...base, installed: true });
      continue;
    }
    const cli = CLI_AGENTS[name];
    const info = await installInfo(cli.package, env);
    rows.push({
      ...base,
      package: cli.package.npmPackage,
      version: cli.package.version,
      defaultModel: cli.defaultModel,
      installed: info.installed,
      cachePath: info.path,
      endpointEnv: cli.endpointEnv,
    });
  }
  return [...rows, ...(await configurableRows(env))];
}

function packageCell(row: AgentListing): string {
  const pkg = row.package ? `${row.package}@${row.version}` : '(built in)';
  return row.flag ? `${pkg}, needs ${row.flag} "…"` : pkg;
}

function formatAgents(rows: readonly AgentListing[]): string {
  const table = [
    ['AGENT', 'PACKAGE', 'INSTALLED', 'KEY', 'DEFAULT MODEL'],
    ...rows.map((row) => [
      row.name,
      packageCell(row),
      row.installed ? 'yes' : 'no',
      row.requiredEnv.length === 0
        ? '-'
        : row.requiredEnv.map((key) => `${key} ${row.missingEnv.includes(key) ? 'missing' : 'set'}`).join(', '),
      row.defaultModel ?? '-',
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  const lines = table.map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
  const notInstalled = rows.filter((row) => !row.installed).map((row) => row.name);
  if (notInstalled.length > 0)
    lines.push(
      '',
      `not installed yet (installed on first use, or now with: skill-eval agents install ${notInstalled.join(' ')})`,
    );
  return lines.join('\n');
}

/** Installs an agent CLI into the cache (npm, once); a no-op when it is already there. AgentError (exit 4) when npm fails. */
async function installAgent(
  name: string,
  options: { log?: ((line: string) => void) | undefined; signal?: AbortSignal | undefined } = {},
): Promise<InstalledCli> {
  const pkg = packageOf(name);
  if (!pkg) {
    const installable = [...Object.keys(CLI_AGENTS), 'acp'].join(', ');
    const builtIn = Object.hasOwn(agents, name) || isConfigurableAgent(name);
    throw new UsageError(builtIn ? `agent "${name}" is built in: nothing to install` : `unknown agent "${name}"`, {
      hint: `installable agents: ${installable}`,
    });
  }
  return ensureInstalledOutsideTrial(pkg, { log: options.log, signal: options.signal });
}

function agentsCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'agents');
  if (existing) return existing;
  return program.command('agents');
}

export const registerAgents: RegisterCommand = (program) => {
  const command = agentsCommand(program)
    .description('List the agents, their pinned CLI versions, whether each is installed and whether its key is set.')
    .option('--json', 'print a machine-readable list on stdout')
    .action(async (options: { json?: boolean }) => {
      const rows = await listAgents();
      console.log(options.json ? JSON.stringify(rows, undefined, 2) : formatAgents(rows));
    });
  command
    .command('install')
    .description('Install agent CLIs (pinned npm packages) into the cache ahead of a run.')
    .argument('<names...>', `agents to install (${Object.keys(CLI_AGENTS).join(', ')}, acp (its bridge), or "all")`)
    .action(async (names: string[]) => {
      const wanted = names.includes('all') ? [...Object.keys(CLI_AGENTS), 'acp'] : names;
      for (const name of wanted) {
        const installed = await installAgent(name, { log: (line) => console.error(line) });
        console.log(`${name}: ${installed.root}`);
      }
    });
};
