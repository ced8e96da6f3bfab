import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  opendirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { chmod, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { InfraError } from '../errors.js';
import type { Task } from '../task/types.js';
import { killGroup, runInProcessGroup } from '../util/process-group.js';
import { removeTree } from '../util/remove-tree.js';
import { SYNC_FILE_BYTES } from '../util/small-files.js';
import { extractTar, gunzipFile } from '../util/tar-gz.js';
import { parseDockerfile } from './dockerfile.js';
import { type LocalSandbox, localLimits } from './local/limits.js';
import { dropUnsafeEntries } from './local/links.js';
import { LOCAL_ROOT_PREFIX, writeRootJob } from './local/root-name.js';
import { probeSandbox, SANDBOX_ENV, type SandboxMode, sandboxCommand, sandboxModeFromEnv } from './local/sandbox.js';
import { reclaimLocal } from './local-reclaim.js';
import type {
  EnvironmentPaths,
  EnvironmentProvider,
  ExecOptions,
  ExecResult,
  LimitReport,
  PrepareContext,
  PreparedEnvironment,
  WorkdirArchive,
  Workspace,
  WorkspaceContext,
} from './types.js';
import { GATEWAY_ENV_DIR } from './types.js';
import { type VerificationOutcome, type VerificationRequest, verifyStepByStep } from './verification.js';
import { archiveHostDirectory } from './workspace-archive.js';

/**
 * The local provider: a fresh temp directory per trial, no container.
 *
 * Harbor tasks use absolute paths (`/app`, `/logs/verifier`, `/tests`, `/solution`). Here each trial gets a
 * root R and those paths live under it (`R/app`, `R/logs/verifier`, …). Commands the lifecycle runs and the
 * text files it uploads (tests, solution) have those literal prefixes rewritten to R's; HOME and TMPDIR point
 * inside R so host skill folders (`~/.claude/skills`, …) can't leak in. The Dockerfile is not executed: only
 * its WORKDIR, COPY/ADD of local files and ENV are reproduced (docs/providers.md). Each command runs in a bubblewrap
 * sandbox where it can (local/sandbox.ts), else as before, unsandboxed, with the reason in the result's limits.
 */

export interface LocalProviderOptions {
  /** Where trial roots are created; the system temp dir by default. */
  baseDir?: string | undefined;
  /** Time between SIGTERM and SIGKILL when a command is stopped. */
  killGraceMs?: number | undefined;
  /** Whether commands run in the bubblewrap sandbox; `$SKILL_EVAL_LOCAL_SANDBOX`, else `auto`, by default. */
  sandbox?: SandboxMode | undefined;
}

interface CopyStep {
  hostSource: string;
  /** Absolute environment path. */
  destination: string;
  /** Destination names a directory (trailing slash, several sources, or a directory source). */
  intoDirectory: boolean;
}

interface LocalHandle {
  workdir: string;
  copies: CopyStep[];
  env: Record<string, string>;
}

const HARBOR_PREFIXES = ['/logs', '/tests', '/solution'];
/** Host variables a command may see; everything else (tokens, keys) reaches it only through `env`. */
const PASSTHROUGH_ENV = ['LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TERM', 'USER', 'LOGNAME', 'SHELL'];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Rewrites literal absolute environment paths to their place under the trial root. */
export function makePathRewriter(root: string, prefixes: readonly string[]): (text: string) => string {
  const unique = [...new Set(prefixes.filter((p) => p.startsWith('/') && p !== '/'))].sort(
    (a, b) => b.length - a.length,
  );
  if (unique.length === 0) return (text) => text;
  // A prefix counts only at the start of a path: after start, whitespace, a quote or shell punctuation.
  const pattern = new RegExp(
    `(^|[\\s'"=:(\\[,;|&<>{}\`])(${unique.map(escapeRegExp).join('|')})(?=$|[/\\s'"):;|&<>}\\]\`,])`,
    'gm',
  );
  return (text) => text.replace(pattern, (_m, lead: string, prefix: string) => `${lead}${root}${prefix}`);
}

/**
 * File-system work on a trial root is synchronous where it is small and bounded (a trivial trial makes ~100 fs
 * calls): files up to SYNC_FILE_BYTES are copied synchronously, bigger ones asynchronously, and long copies
 * yield to the event loop every YIELD_EVERY files.
 */
const YIELD_EVERY = 64;

function isProbablyText(data: Buffer): boolean {
  return data.length < 2 * 1024 * 1024 && !data.subarray(0, 8192).includes(0);
}

async function planCopies(task: Task, notes: string[]): Promise<LocalHandle> {
  const handle: LocalHandle = { workdir: '/app', copies: [], env: {} };
  const dockerfile = task.paths.dockerfile;
  if (!dockerfile || !existsSync(dockerfile)) {
    notes.push('no environment/Dockerfile: the workspace starts empty');
    return handle;
  }
  const summary = parseDockerfile(await readFile(dockerfile, 'utf8'));
  if (summary.workdir) handle.workdir = summary.workdir;
  handle.env = summary.env;
  if (summary.ignored.length > 0) notes.push(`local provider does not execute: ${summary.ignored.join(', ')}`);
  const environmentDir = task.paths.environmentDir ?? dirname(dockerfile);
  for (const copy of summary.copies) {
    if (copy.fromStage !== undefined) {
      notes.push(`skipped ${copy.instruction} --from=${copy.fromStage} (line ${copy.line}): needs a build stage`);
      continue;
    }
    const destination = copy.destination.startsWith('/')
      ? copy.destination
      : `${copy.workdir ?? '/'}/${copy.destination}`.replace(/\/+/g, '/');
    for (const source of copy.sources) {
      if (/[*?[]/.test(source) || /^https?:\/\//.test(source)) {
        notes.push(
          `skipped ${copy.instruction} ${source} (line ${copy.line}): wildcards and URLs are not reproduced locally`,
        );
        continue;
      }
      // Harbor's context is environment/; legacy skill-eval Dockerfiles copied from the task root.
      let hostSource = resolve(environmentDir, source);
      if (!existsSync(hostSource)) hostSource = resolve(task.dir, source);
      if (!existsSync(hostSource)) {
        notes.push(
          `skipped ${copy.instruction} ${source} (line ${copy.line}): not found in environment/ or the task root`,
        );
        continue;
      }
      if (hostSource.startsWith(join(task.dir, 'tests')) || hostSource.startsWith(join(task.dir, 'solution'))) {
        notes.push(
          `skipped ${copy.instruction} ${source} (line ${copy.line}): tests and solution are never copied into the agent's environment`,
        );
        continue;
      }
      const sourceIsDir = (await stat(hostSource)).isDirectory();
      handle.copies.push({
        hostSource,
        destination,
        intoDirectory: sourceIsDir || copy.destination.endsWith('/') || copy.sources.length > 1,
      });
    }
  }
  return handle;
}

function isEmptyWritableDirectory(path: string): boolean {
  try {
    const info = lstatSync(path);
    if (!info.isDirectory() || (info.mode & 0o700) !== 0o700) return false;
    const dir = opendirSync(path);
    try {
      return dir.readSync() === null;
    } finally {
      dir.closeSync();
    }
  } catch {
    return false;
  }
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60);
}

class LocalWorkspace implements Workspace {
  readonly id: string;
  readonly paths: EnvironmentPaths;
  /** Set once an agent CLI ran with the host's network on an offline task (see exec). */
  private networkKept = false;
  private readonly groups = new Set<number>();
  private readonly rewrite: (text: string) => string;
  private readonly baseEnv: Record<string, string>;
  private disposed = false;
  private filesCopied = 0;

  constructor(
    readonly root: string,
    workdir: string,
    extraPrefixes: string[],
    imageEnv: Record<string, string>,
    private readonly killGraceMs: number,
    private readonly sandbox: LocalSandbox,
    /** WorkspaceContext.gatewayDir on the host. */
    private readonly gatewayHostDir?: string | undefined,
  ) {
    this.id = basename(root);

    const under = (p: string): string => join(root, p);
    this.paths = {
      workdir: under(workdir),
      home: under('/root'),
      tmp: under('/tmp'),
      logsAgent: under('/logs/agent'),
      logsVerifier: under('/logs/verifier'),
      logsArtifacts: under('/logs/artifacts'),
      tests: under('/tests'),
      solution: under('/solution'),
    };
    this.rewrite = makePathRewriter(root, [...HARBOR_PREFIXES, workdir, ...extraPrefixes]);
    const passthrough = Object.fromEntries(
      PASSTHROUGH_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
    );
    this.baseEnv = {
      ...passthrough,
      ...Object.fromEntries(Object.entries(imageEnv).map(([k, v]) => [k, this.rewrite(v)])),
      HOME: this.paths.home,
      TMPDIR: this.paths.tmp,
      SKILL_EVAL_ROOT: root,
    };
  }

  get limits(): LimitReport {
    return localLimits(this.sandbox, this.networkKept);
  }

  /** The sandbox shows the host directory at a fixed path; unsandboxed, commands see the host's own. */
  get gatewayDir(): string | undefined {
    if (this.gatewayHostDir === undefined) return undefined;
    return this.sandbox.bwrap === undefined ? this.gatewayHostDir : GATEWAY_ENV_DIR;
  }

  /** PATH is computed per command: COPY may have created bin directories after construction. */
  private commandEnv(extra: Record<string, string> | undefined): Record<string, string> {
    const binDirs = ['/usr/local/bin', '/usr/bin', '/bin'].map((p) => join(this.root, p)).filter((d) => existsSync(d));
    const path = [...binDirs, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
    return { ...this.baseEnv, PATH: path, ...extra };
  }

  /** Maps an environment path given in Harbor form (`/logs/verifier`) or already under the root. */
  private hostPath(envPath: string): string {
    if (envPath === this.root || envPath.startsWith(this.root + sep)) return envPath;
    const rewritten = this.rewrite(envPath);
    if (rewritten !== envPath) return rewritten;
    throw new InfraError(`local workspace: ${envPath} is outside the trial root ${this.root}`, { retryable: false });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.assertLive();
    const cwd = options.cwd ? this.hostPath(options.cwd) : this.paths.workdir;
    // The agent may have removed it; usually it is there (one stat instead of a mkdir round trip).
    if (!existsSync(cwd)) await mkdir(cwd, { recursive: true });
    const env = this.commandEnv(options.env);
    let line = this.rewrite(command);
    if (this.sandbox.bwrap !== undefined) {
      if (!existsSync(this.paths.tmp)) mkdirSync(this.paths.tmp, { recursive: true });
      const { bwrap } = this.sandbox;
      // An agent CLI not routed through a model gateway (`eval --no-gateway`) needs the host's network to reach its
      // model API; every other command of an offline task (verifier, oracle, a gateway-routed agent) has loopback only.
      const offline = this.sandbox.offline && options.callsModelApi !== true;
      if (this.sandbox.offline && !offline) this.networkKept = true;
      const binds: Array<[string, string]> = this.gatewayHostDir ? [[this.gatewayHostDir, GATEWAY_ENV_DIR]] : [];
      line = sandboxCommand(line, { bwrap, offline, root: this.root, cwd, path: env.PATH!, binds });
      // The launcher runs on the host: its bash comes from the host's PATH, never from a bin dir of the trial.
      env.PATH = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    }
    return runInProcessGroup(line, {
      cwd,
      env,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      stdin: options.stdin,
      onStdout: options.onStdout,
      onStderr: options.onStderr,
      killGraceMs: this.killGraceMs,
      onGroup: (pgid) => this.groups.add(pgid),
    });
  }

  async upload(hostSource: string, envPath: string): Promise<void> {
    this.assertLive();
    const target = this.hostPath(envPath);
    await this.copyRewriting(hostSource, target);
  }

  private async copyRewriting(source: string, target: string, parentExists = false): Promise<void> {
    const info = lstatSync(source);
    if (info.isDirectory()) {
      mkdirSync(target, { recursive: !parentExists });
      for (const entry of readdirSync(source)) await this.copyRewriting(join(source, entry), join(target, entry), true);
    } else if (info.isFile()) {
      if (!parentExists) mkdirSync(dirname(target), { recursive: true });
      if (info.size <= SYNC_FILE_BYTES) {
        const data = readFileSync(source);
        writeFileSync(target, isProbablyText(data) ? this.rewrite(data.toString('utf8')) : data);
        chmodSync(target, info.mode & 0o7777);
        if (++this.filesCopied % YIELD_EVERY === 0) await nextTurn();
      } else {
        const data = await readFile(source);
        await writeFile(target, isProbablyText(data) ? this.rewrite(data.toString('utf8')) : data);
        await chmod(target, info.mode & 0o7777);
      }
    } else if (info.isSymbolicLink()) {
      await cp(source, target, { verbatimSymlinks: true });
    }
  }

  async writeFile(envPath: string, content: string | Uint8Array, mode?: number): Promise<void> {
    this.assertLive();
    const target = this.hostPath(envPath);
    // In memory already: as bounded as the caller's content.
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    if (mode !== undefined) chmodSync(target, mode);
  }

  async download(envPath: string, hostTarget: string): Promise<boolean> {
    const source = this.hostPath(envPath);
    if (!existsSync(source)) return false;
    await mkdir(dirname(hostTarget), { recursive: true });
    await cp(source, hostTarget, { recursive: true, verbatimSymlinks: true, force: true });
    return true;
  }

  async readFile(envPath: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.hostPath(envPath));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR')
        return undefined;
      throw new InfraError(`local workspace: cannot read ${envPath}`, { cause: error });
    }
  }

  async remove(envPath: string): Promise<void> {
    await removeTree(this.hostPath(envPath));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.groups].map((pgid) => killGroup(pgid, this.killGraceMs)));
    this.groups.clear();
  }

  /** Step by step, but the reset and the log collection are file operations here, not commands. */
  async verify(request: VerificationRequest): Promise<VerificationOutcome> {
    const reset = async (): Promise<void> => {
      const logsDir = this.hostPath(request.logsDir);
      for (const path of request.remove) {
        // An empty, writable log directory is already what the verifier must find. Keeping it saves creating an
        // inode, the expensive part of a trivial trial on ext4.
        if (path === request.logsDir && isEmptyWritableDirectory(logsDir)) continue;
        await removeTree(this.hostPath(path));
      }
      // `owner` is not applied: every local command runs as the current user.
      if (!existsSync(logsDir)) mkdirSync(logsDir, { recursive: true });
    };
    const outcome = await verifyStepByStep(this, request, {
      reset,
      collect: (envPath, hostTarget) => this.moveOut(envPath, hostTarget),
    });
    const skipped = request.collect.flatMap(({ from, to }) => dropUnsafeEntries(to, this.harborPath(from)));
    return skipped.length > 0 ? { ...outcome, skipped: [...(outcome.skipped ?? []), ...skipped] } : outcome;
  }

  /** The workdir is a host directory: packed in-process, no command. */
  async archiveWorkdir(hostFile: string, maxBytes: number): Promise<WorkdirArchive> {
    if (!existsSync(this.paths.workdir)) return { written: false, reason: 'the workdir does not exist' };
    return archiveHostDirectory(this.paths.workdir, hostFile, maxBytes);
  }

  /** Byte for byte: no path rewriting (the archive holds what the agent left, not what the task shipped). */
  async restoreWorkdir(hostFile: string): Promise<void> {
    this.assertLive();
    await removeTree(this.paths.workdir);
    mkdirSync(this.paths.workdir, { recursive: true });
    await extractTar(gunzipFile(hostFile), this.paths.workdir);
  }

  /** `R/logs/agent` → `/logs/agent`: how the task names it. */
  private harborPath(path: string): string {
    return path.startsWith(this.root + sep) ? path.slice(this.root.length) : path;
  }

  private async moveOut(envPath: string, hostTarget: string): Promise<boolean> {
    const source = this.hostPath(envPath);
    try {
      renameSync(source, hostTarget);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return existsSync(source) ? this.download(envPath, hostTarget) : false;
      if (code === 'EXDEV' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR')
        return this.download(envPath, hostTarget);
      throw error;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.stopAll();
      await removeTree(this.root);
    } catch {
      // dispose never throws: a leftover temp dir is reported by nobody and harms nothing
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new InfraError(`local workspace ${this.id} was already disposed`, { retryable: false });
  }
}

/** The sandbox a provider's workspaces get (offline is per task), decided once: the probe runs a process. */
function sandboxDecider(mode: SandboxMode): () => { bwrap: string } | { bwrap?: undefined; reason: string } {
  let decided: { bwrap: string } | { bwrap?: undefined; reason: string } | undefined;
  return () => {
    if (decided) return decided;
    if (mode === 'off') {
      decided = { reason: `turned off (${SANDBOX_ENV}=0 or the provider's sandbox option)` };
    } else {
      const probe = probeSandbox();
      decided = probe.available ? { bwrap: probe.bwrap } : { reason: probe.reason };
    }
    return decided;
  };
}

export function createLocalProvider(options: LocalProviderOptions = {}): EnvironmentProvider<LocalHandle> {
  const killGraceMs = options.killGraceMs ?? 2000;
  const mode = options.sandbox ?? sandboxModeFromEnv();
  const sandbox = sandboxDecider(mode);
  let warned = false;
  return {
    name: 'local',
    async preflight() {
      // Nothing to start; bash is the only requirement, and bubblewrap when the sandbox is required.
      if (!existsSync('/bin/bash') && !existsSync('/usr/bin/bash')) {
        throw new InfraError('the local provider needs bash', { hint: 'install bash, or use --provider=docker' });
      }
      const decided = sandbox();
      if (mode === 'require' && decided.bwrap === undefined)
        throw new InfraError(`the local sandbox is required (${SANDBOX_ENV}=1) but cannot run: ${decided.reason}`, {
          retryable: false,
          hint: `install bubblewrap (apt-get install bubblewrap), allow user namespaces, or unset ${SANDBOX_ENV}`,
        });
    },
    // Resuming a job: trial roots and processes of dead runs go first (only what no live process owns).
    reclaimJob: () => reclaimLocal({ baseDir: options.baseDir }),
    async prepare(task: Task, context: PrepareContext): Promise<PreparedEnvironment<LocalHandle>> {
      const notes: string[] = [];
      const decided = sandbox();
      if (decided.bwrap === undefined && mode === 'auto' && !warned) {
        warned = true;
        context.log(
          `WARNING: local provider NOT sandboxed: ${decided.reason}. Agents see this machine's files and network, and what they detach can outlive the trial. Install bubblewrap, use --provider=docker, or set ${SANDBOX_ENV}=0 to silence this.`,
        );
      }
      const handle = await planCopies(task, notes);
      return { task, handle, built: false, notes };
    },
    async createWorkspace(prepared: PreparedEnvironment<LocalHandle>, context: WorkspaceContext): Promise<Workspace> {
      const handle = prepared.handle;
      const baseDir = options.baseDir ?? tmpdir();
      let root: string;
      try {
        if (!existsSync(baseDir)) mkdirSync(baseDir, { recursive: true });
        // The owner's pid in the name lets `skill-eval cleanup` tell a crashed run's leftovers from a live run's.
        root = mkdtempSync(
          join(
            baseDir,
            `${LOCAL_ROOT_PREFIX}${process.pid}-${sanitize(context.trialName)}-${randomBytes(2).toString('hex')}-`,
          ),
        );
        writeRootJob(root, context.jobId);
      } catch (error) {
        throw new InfraError(`could not create a trial directory under ${baseDir}`, { cause: error });
      }
      const destinations = handle.copies.map((c) => c.destination.replace(/\/+$/, ''));
      const decided = sandbox();
      const placement: LocalSandbox =
        decided.bwrap === undefined
          ? decided
          : { bwrap: decided.bwrap, offline: !prepared.task.config.environment.allowInternet };
      const workspace = new LocalWorkspace(
        root,
        handle.workdir,
        destinations,
        handle.env,
        killGraceMs,
        placement,
        context.gatewayDir,
      );
      try {
        const { workdir, home, tmp, logsAgent, logsVerifier, logsArtifacts } = workspace.paths;
        for (const dir of [workdir, home, tmp, dirname(logsAgent), logsAgent, logsVerifier, logsArtifacts])
          mkdirSync(dir, { recursive: true });
        for (const step of handle.copies) {
          const target = join(root, step.destination);
          if (step.intoDirectory) {
            const info = await stat(step.hostSource);
            await cp(step.hostSource, info.isDirectory() ? target : join(target, basename(step.hostSource)), {
              recursive: true,
            });
          } else {
            await mkdir(dirname(target), { recursive: true });
            await cp(step.hostSource, target, { recursive: true });
          }
        }
      } catch (error) {
        await workspace.dispose();
        throw new InfraError(`could not populate the trial directory ${root}`, { cause: error });
      }
      return workspace;
    },
  };
}
