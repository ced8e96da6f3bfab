import type { Command } from 'commander';
import { ensureInstalledOutsideTrial, type InstalledCli, installInfo } from '../agents/cli/install.js';
import { CLI_AGENTS, type CliAgentName, isCliAgent } from '../agents/cli/packages.js';
import { agents } from '../agents/registry.js';
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
  return rows;
}

function formatAgents(rows: readonly AgentListing[]): string {
  const table = [
    ['AGENT', 'PACKAGE', 'INSTALLED', 'KEY', 'DEFAULT MODEL'],
    ...rows.map((row) => [
      row.name,
      row.package ? `${row.package}@${row.version}` : '(built in)',
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
  if (!isCliAgent(name)) {
    const cliNames = Object.keys(CLI_AGENTS).join(', ');
    throw new UsageError(
      Object.hasOwn(agents, name) ? `agent "${name}" is built in: nothing to install` : `unknown agent "${name}"`,
      { hint: `installable agents: ${cliNames}` },
    );
  }
  return ensureInstalledOutsideTrial(CLI_AGENTS[name as CliAgentName].package, {
    log: options.log,
    signal: options.signal,
  });
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
    .argument('<names...>', `agents to install (${Object.keys(CLI_AGENTS).join(', ')}, or "all")`)
    .action(async (names: string[]) => {
      const wanted = names.includes('all') ? Object.keys(CLI_AGENTS) : names;
      for (const name of wanted) {
        const installed = await installAgent(name, { log: (line) => console.error(line) });
        console.log(`${name}: ${installed.root}`);
      }
    });
};
