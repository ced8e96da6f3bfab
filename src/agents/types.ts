import type { EnvironmentPaths, ImageLayer, Workspace } from '../environments/types.js';
import type { Task } from '../task/types.js';
import type { SessionLog } from '../util/session-log.js';

export type { Arm } from '../arms/spec.js';

import type { Arm } from '../arms/spec.js';

/** What an agent did, in the order it happened. CLI harnesses translate their own streams into these. */
export type AgentEvent =
  | {
      type: 'command';
      at: string;
      command: string;
      exitCode?: number | undefined;
      stdout?: string;
      stderr?: string;
      durationMs?: number;
    }
  | {
      type: 'tool_call';
      at: string;
      tool: string;
      input?: unknown;
      output?: string | undefined;
      exitCode?: number | undefined;
      isError?: boolean | undefined;
    }
  | { type: 'message'; at: string; role: 'assistant' | 'user' | 'system'; text: string }
  | { type: 'skill'; at: string; skill: string; how: string }
  | { type: 'error'; at: string; message: string };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd?: number | undefined;
  /** True when cost was computed from a price table rather than reported by the CLI. */
  costEstimated?: boolean | undefined;
  turns?: number | undefined;
}

export interface AgentRunResult {
  events: AgentEvent[];
  finalMessage?: string | undefined;
  usage?: Usage | undefined;
  /** Skills the agent opened (by name); undefined when the agent cannot tell. */
  skillsActivated?: string[] | undefined;
  /** Model calls the agent made; 0 with a failure means it died before reaching the model. */
  modelCalls?: number | undefined;
}

export interface AgentRunContext {
  task: Task;
  instruction: string;
  workspace: Workspace;
  paths: EnvironmentPaths;
  arm: Arm;
  /** Where skills were placed (environment paths), empty in the no-skills arm. */
  skillDirs: string[];
  /** Variables forwarded to the agent (API keys, --env). Secrets: their values are redacted wherever persisted. */
  env: Record<string, string>;
  model?: string | undefined;
  /** Aborted on agent timeout and on cancel. */
  signal: AbortSignal;
  timeoutMs: number;
  log: SessionLog;
}

export interface Agent {
  readonly name: string;
  readonly description: string;
  /** Environment variables the agent cannot run without (checked before any trial). */
  readonly requiredEnv: readonly string[];
  /** Skill directories the agent discovers, relative to the workdir (`.claude/skills`) or to HOME (`~/.claude/skills`). */
  readonly skillDirs: readonly string[];
  /** The oracle needs `solution/` uploaded; no other agent ever sees it. */
  readonly usesSolution: boolean;
  /** The model it runs when none is given: the job pins and records it, so a result always names its model. */
  readonly defaultModel?: string | undefined;
  /**
   * The command line a configurable agent runs (`--command`, `--acp-command`): part of the job's plan (job.json,
   * redacted), so a resumed job runs the same one. Absent for the agents that are what their name says.
   */
  readonly command?: string | undefined;
  /**
   * It calls a model API although it needs no key skill-eval knows of (`acp`): planning treats it like the agents
   * with a key (Docker refuses an offline task without --network). Agents with a `requiredEnv` call one anyway.
   */
  readonly callsModelApi?: boolean | undefined;
  /** Runs the agent. Throws AgentError when the agent itself failed; returns normally otherwise. */
  run(context: AgentRunContext): Promise<AgentRunResult>;
  /**
   * Installs what the agent needs on this machine ahead of the trials (an agent CLI into the cache), so the
   * first trial's timeout does not pay for it. Idempotent; absent for agents that need nothing. Throws AgentError
   * when it cannot (exit 4: no trial can run), InterruptedError when cancelled.
   */
  install?: ((options: { signal?: AbortSignal | undefined; log: (line: string) => void }) => Promise<void>) | undefined;
  /**
   * For image-based providers: the layer that bakes this agent's CLI into task images (pass it in
   * PrepareContext.layers). Absent for agents that need nothing in the image (oracle, nop).
   */
  imageLayer?:
    | ((options: { signal?: AbortSignal | undefined; log: (line: string) => void }) => Promise<ImageLayer>)
    | undefined;
}
