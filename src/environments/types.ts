import type { Problem } from '../errors.js';
import type { Task } from '../task/types.js';
import type { ExecOptions, ExecResult } from '../util/exec.js';

export type { ExecOptions, ExecResult } from '../util/exec.js';

import type { VerificationOutcome, VerificationRequest } from './verification.js';

/**
 * Paths as the task sees them. Harbor tasks use absolute paths (`/logs/verifier`, `/tests`, `/app`);
 * the Docker provider has them literally, the local provider maps them under a per-trial root.
 */
export interface EnvironmentPaths {
  /** Where the agent starts (the image's WORKDIR, `/app` by default). */
  workdir: string;
  home: string;
  tmp: string;
  logsAgent: string;
  logsVerifier: string;
  logsArtifacts: string;
  tests: string;
  solution: string;
}

/** How each resource limit of task.toml was applied, so a result never implies a limit it did not have. */
export type LimitState = 'enforced' | 'not enforced' | 'not applicable';
export interface LimitReport {
  cpus: LimitState;
  memory: LimitState;
  storage: LimitState;
  pids: LimitState;
  network: LimitState;
  /**
   * Whether the trial's commands ran sandboxed (local provider: bubblewrap; absent where the environment is a
   * container anyway).
   */
  sandbox?: LimitState | undefined;
  /** Docker: the engine runtime the container ran under when not the default (`--runtime=runsc`: gVisor). */
  runtime?: string | undefined;
  notes: string[];
}

/** A fresh, isolated place for one trial. */
export interface Workspace {
  readonly id: string;
  readonly paths: EnvironmentPaths;
  readonly limits: LimitReport;
  /** Runs `bash -c command`. Never throws for a non-zero exit; throws InfraError when it could not run at all. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Copies a host file or directory (its contents) to `envPath`. */
  upload(hostPath: string, envPath: string): Promise<void>;
  /** Writes a file in the environment. */
  writeFile(envPath: string, content: string | Uint8Array, mode?: number): Promise<void>;
  /** Copies `envPath` (file or directory) to the host; returns false when it does not exist. */
  download(envPath: string, hostPath: string): Promise<boolean>;
  /** Reads a file of the environment; undefined when it does not exist. */
  readFile(envPath: string): Promise<Buffer | undefined>;
  /** `rm -rf envPath`. */
  remove(envPath: string): Promise<void>;
  /**
   * Stops every process still running in the workspace (what the agent left in the background), so nothing
   * can write into the verifier's files once verification starts.
   */
  stopAll(): Promise<void>;
  /**
   * Stop everything, reset, copy the tests in, run the verifier, copy the logs out — batched as the provider
   * can (fewer engine round trips). Optional: the lifecycle composes it from the methods above otherwise.
   */
  verify?(request: VerificationRequest): Promise<VerificationOutcome>;
  /**
   * Writes the workdir as a gzip'd tar (names relative to the workdir) to `hostFile`, in one engine round trip at
   * most; stops and writes nothing once it passes `maxBytes`. Optional: workspace-archive.ts composes it from
   * `download` otherwise.
   */
  archiveWorkdir?(hostFile: string, maxBytes: number): Promise<WorkdirArchive>;
  /** Replaces the workdir's contents with those of an archive `archiveWorkdir` wrote. Optional, as above. */
  restoreWorkdir?(hostFile: string): Promise<void>;
  /**
   * Where WorkspaceContext.gatewayDir is inside the environment (read-write), undefined when none was asked for:
   * the trial's model gateway listens on a unix socket there, the only way out of an offline sandbox.
   */
  readonly gatewayDir?: string | undefined;
  /** Releases everything the workspace holds. Idempotent; never throws. */
  dispose(): Promise<void>;
}

/** Where a provider shows WorkspaceContext.gatewayDir inside a sandbox or container. */
export const GATEWAY_ENV_DIR = '/run/skill-eval/gateway';

/** What archiving the workdir wrote: its compressed size, or nothing because it passed the cap. */
export type WorkdirArchive = { written: true; bytes: number } | { written: false; reason: string };

/** What a provider made ready once per task per job (e.g. a built image). */
export interface PreparedEnvironment<Handle = unknown> {
  task: Task;
  /** Provider-specific handle (image id, …), typed by the provider that made it. */
  handle: Handle;
  /** True when preparing did real work (an image build); false when it reused a cache. */
  built: boolean;
  notes: string[];
}

/**
 * Extra image layer baked on top of a task's image (the Docker provider's hook for agent CLIs, which are never
 * installed per trial): built once per content into `skill-eval/task-<name>:<hash>-<key>`, reused afterwards.
 */
export interface ImageLayer {
  /** Short name, part of the image tag (`claude-code-1.0.3`). */
  key: string;
  /** Dockerfile instructions placed after `FROM <task image>`. */
  dockerfileLines: string[];
  /** Files of the layer's build context (relative path → content), for COPY in `dockerfileLines`. */
  files?: Record<string, string | Uint8Array | { content: string | Uint8Array; mode: number }> | undefined;
}

export interface PrepareContext {
  jobId: string;
  forceBuild: boolean;
  signal?: AbortSignal | undefined;
  /** Build output and other progress lines. */
  log: (line: string) => void;
  /** Layers stacked on the task's image, in order (providers without images ignore them). */
  layers?: ImageLayer[] | undefined;
}

export interface WorkspaceContext {
  jobId: string;
  trialId: string;
  /** Human-readable, unique in the job (`superlint_demo__with-skills__3`). */
  trialName: string;
  signal?: AbortSignal | undefined;
  /**
   * A host directory to show inside the environment (Workspace.gatewayDir): the trial's model gateway puts its unix
   * socket there (src/gateway/trial.ts), so an agent reaches it even with no network at all.
   */
  gatewayDir?: string | undefined;
}

/** What a provider may need to know of a planned job to refuse it up front. */
export interface JobRequirements {
  tasks: readonly Task[];
  /** Agents that call a model API (they need a network path to it). */
  apiAgents: readonly string[];
  /**
   * They reach it through the trial's model gateway (a unix socket shown in the environment), which needs no
   * network: an offline task stays offline.
   */
  gateway?: boolean | undefined;
}

/** What reclaiming a resumed job's leftovers did. */
export interface ReclaimReport {
  /** Resources of the job's dead runs that were removed (containers, processes, trial directories). */
  removed: number;
  /** What was kept and why, or could not be removed. */
  notes: string[];
}

export interface EnvironmentProvider<Handle = unknown> {
  readonly name: string;
  /** True when environments come from images that can take extra layers (agent CLIs baked in once). */
  readonly usesImages?: boolean | undefined;
  /** Checks that the provider can run here; throws InfraError saying exactly what to do. */
  preflight(): Promise<void>;
  /**
   * What this provider needs of a task beyond a valid task (Docker: an environment to build or pull). Problems
   * name the file and key as task validation does; an empty list means the task can run here.
   */
  checkTask?(task: Task, options?: { cwd?: string | undefined }): Problem[];
  /**
   * Refuses, before any trial, a job this provider cannot run as planned (Docker: an agent that calls a model
   * API on a task without network, unless the network is overridden). Throws UsageError saying what to change.
   */
  checkJob?(job: JobRequirements): void;
  /**
   * On a forced exit (a second Ctrl-C): removes what running trials hold that is cheap to remove now (Docker:
   * containers), within `timeoutMs`; returns how many it removed. Everything else is left to `skill-eval cleanup`.
   */
  forceRemoveLive?(timeoutMs: number): Promise<number>;
  /**
   * When a job is resumed, before its first trial: removes what earlier runs of this job left (Docker:
   * containers) whose owner process is dead, so a SIGKILLed run's containers do not keep running. Resources of a
   * live owner (checked by pid and host) stay.
   */
  reclaimJob?(jobId: string): Promise<ReclaimReport>;
  prepare(task: Task, context: PrepareContext): Promise<PreparedEnvironment<Handle>>;
  createWorkspace(prepared: PreparedEnvironment<Handle>, context: WorkspaceContext): Promise<Workspace>;
}
