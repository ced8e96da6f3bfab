import { existsSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workspace } from '../environments/types.js';
import { removeTree } from '../util/remove-tree.js';
import type { Redactor } from '../util/secrets.js';
import type { JobBudget } from './budget.js';
import { FORWARDER_SCRIPT, FORWARDER_SOURCE, freeLoopbackPort, GATEWAY_SOCKET, routedWorkspace } from './forwarder.js';
import { newGatewayToken, startGateway } from './gateway.js';
import type { PriceTable } from './prices.js';
import { loadReplay, ReplayStore } from './replay.js';
import { agentGatewayEnv, gatewayUpstreams } from './trial-env.js';
import type { Gateway, GatewayProtocol, GatewayStop, GatewayUsage, RetryPolicy } from './types.js';

/**
 * A trial's model gateway, from the lifecycle's side (src/trial/lifecycle.ts): a host directory for its socket
 * before the workspace exists (the provider shows it inside), the gateway started just before the agent, the
 * agent's env and workspace routed through it, its usage and stop reason once the agent is done, and everything
 * removed at cleanup.
 */

export const MODEL_CALLS_FILE = 'model_calls.jsonl';

/** How a job's trials use their gateways (`eval` flags; TrialRuntime.gateway). */
export interface TrialGatewaySettings {
  /** Keep every call in the trial's model_calls.jsonl (`--record`, the default; `--no-record`). */
  record?: boolean | undefined;
  maxTokensPerTrial?: number | undefined;
  maxCostPerTrial?: number | undefined;
  /** `--max-cost`: shared by every trial of the job. */
  jobBudget?: JobBudget | undefined;
  /**
   * `--replay JOB`: this trial's recording (the same trial's model_calls.jsonl in the replayed job). A trial with
   * no recording gets an empty one: its first call is a replay miss. Upstream is never contacted.
   */
  replayFile?: string | undefined;
  prices?: PriceTable | undefined;
  retry?: RetryPolicy | undefined;
}

/** What the gateway says about the trial, for its status and result.json. */
export interface TrialGatewayOutcome {
  usage: GatewayUsage;
  stop?: GatewayStop | undefined;
  protocols: GatewayProtocol[];
  /** The recording, relative to the trial directory; undefined with `--no-record`. */
  callsFile?: string | undefined;
  /** The trial replayed this recording (host path). */
  replayedFrom?: string | undefined;
  /** Where the agent reached the gateway (inside its sandbox). */
  agentUrl: string;
}

/** Whether the agent calls a model API, so that its trial gets a gateway. */
export function usesGateway(
  agent: { readonly requiredEnv: readonly string[]; readonly callsModelApi?: boolean | undefined },
  settings: TrialGatewaySettings | false | undefined,
): boolean {
  return settings !== false && (agent.requiredEnv.length > 0 || agent.callsModelApi === true);
}

export interface GatewayStart {
  workspace: Workspace;
  env: Record<string, string>;
  trialDir: string;
  redactor: Redactor;
  /** A Node.js binary in the environment for the forwarder. */
  node: string;
  signal?: AbortSignal | undefined;
}

export class TrialGateway {
  private gateway: Gateway | undefined;
  private protocols: GatewayProtocol[] = [];
  private agentUrl = '';
  private outcome: TrialGatewayOutcome | undefined;

  private constructor(
    /** Host directory of the socket and the forwarder script (WorkspaceContext.gatewayDir). */
    readonly dir: string,
    private readonly settings: TrialGatewaySettings,
  ) {}

  /** The socket directory, short (a unix socket path has ~100 bytes) and readable by any agent user. */
  static async open(settings: TrialGatewaySettings): Promise<TrialGateway> {
    const dir = await mkdtemp(join(tmpdir(), 'skgw-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, FORWARDER_SCRIPT), FORWARDER_SOURCE, { mode: 0o644 });
    return new TrialGateway(dir, settings);
  }

  /** Starts the gateway; returns the agent's env (token and gateway URL only) and its routed workspace. */
  async start(
    input: GatewayStart,
  ): Promise<{ env: Record<string, string>; workspace: Workspace; stopped: AbortSignal }> {
    const { settings } = this;
    const replay = settings.replayFile !== undefined;
    const upstreams = gatewayUpstreams(input.env, replay);
    this.protocols = Object.keys(upstreams) as GatewayProtocol[];
    const token = newGatewayToken();
    const socketPath = join(this.dir, GATEWAY_SOCKET);
    this.gateway = await startGateway({
      upstreams,
      token,
      socketPath,
      callsFile: settings.record === false ? undefined : join(input.trialDir, MODEL_CALLS_FILE),
      redactor: input.redactor.with([token]),
      prices: settings.prices,
      budget: {
        maxTokens: settings.maxTokensPerTrial,
        maxCostUsd: settings.maxCostPerTrial,
        job: settings.jobBudget,
      },
      replay: replay ? await replayStore(settings.replayFile!) : undefined,
      retry: settings.retry,
      volatile: volatileStrings(input.workspace, input.trialDir),
      signal: input.signal,
    });
    await chmod(socketPath, 0o666);
    const port = await freeLoopbackPort();
    this.agentUrl = `http://127.0.0.1:${port}`;
    const dir = input.workspace.gatewayDir;
    if (dir === undefined) throw new Error(`the ${input.workspace.id} workspace shows no gateway directory`);
    return {
      env: agentGatewayEnv(input.env, this.protocols, this.agentUrl, token),
      workspace: routedWorkspace(input.workspace, { dir, node: input.node, port }),
      stopped: this.gateway.stopped,
    };
  }

  /** Closes the gateway (every call written) and says what it counted and why it stopped the agent, if it did. */
  async finish(): Promise<TrialGatewayOutcome | undefined> {
    if (this.outcome || !this.gateway) return this.outcome;
    const gateway = this.gateway;
    await gateway.close();
    const reason: unknown = gateway.stopped.aborted ? gateway.stopped.reason : undefined;
    this.outcome = {
      usage: gateway.usage(),
      stop: isStop(reason) ? reason : undefined,
      protocols: this.protocols,
      callsFile: this.settings.record === false ? undefined : MODEL_CALLS_FILE,
      replayedFrom: this.settings.replayFile,
      agentUrl: this.agentUrl,
    };
    return this.outcome;
  }

  /** Cleanup: the gateway closed (if the trial ended early) and its directory gone. Never throws. */
  async dispose(): Promise<void> {
    await this.gateway?.close().catch(() => undefined);
    await removeTree(this.dir).catch(() => undefined);
  }
}

/**
 * What differs between two runs of the same trial and says nothing about the conversation: the workspace's paths
 * (the local provider's per-trial root), its id, the trial dir — also in the form CLIs use in their own file names
 * (Claude Code's `~/.claude/projects/-tmp-…-app/`: every non-alphanumeric character a dash). Longest first, so a
 * path is replaced whole before its parts.
 */
export function volatileStrings(workspace: Pick<Workspace, 'paths' | 'id'>, trialDir: string): string[] {
  const { workdir, home, tmp } = workspace.paths;
  let root = commonPrefix([workdir, home, tmp]);
  root = root.slice(0, root.lastIndexOf('/'));
  const literal = [workdir, home, tmp, trialDir, workspace.id, ...(root.length > 1 ? [root] : [])];
  const mangled = literal.map((text) => text.replace(/[^A-Za-z0-9]/g, '-'));
  return [...new Set([...literal, ...mangled])].filter((text) => text.length >= 8).sort((a, b) => b.length - a.length);
}

function commonPrefix(texts: string[]): string {
  let prefix = texts[0] ?? '';
  for (const text of texts) while (!text.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/** A trial with nothing recorded in the replayed job answers nothing: every call is a replay miss. */
async function replayStore(file: string): Promise<ReplayStore> {
  return existsSync(file) ? loadReplay(file) : new ReplayStore();
}

function isStop(value: unknown): value is GatewayStop {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['budget_exceeded', 'replay_miss', 'upstream_failed'].includes((value as { kind?: unknown }).kind as string)
  );
}
