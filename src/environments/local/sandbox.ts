import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  type Dirent,
  existsSync,
  lstatSync,
  readdirSync,
  readlinkSync,
  realpathSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { bashArguments } from '../../util/process-group.js';
import { shellQuote } from '../../util/shell.js';

/**
 * The local provider's sandbox: every command runs in its own bubblewrap (bwrap) sandbox — a mount namespace
 * that shows the toolchain read-only and the trial root read-write, and nothing of the host's home, results or
 * other trials; a PID namespace, so whatever the command started (`setsid` included) dies when it ends or when
 * skill-eval dies; a network namespace with loopback only for tasks with `allow_internet = false`.
 */

/** `auto`: sandbox when bubblewrap works here, else warn and run unsandboxed; `require`: refuse to run without it. */
export type SandboxMode = 'auto' | 'off' | 'require';

export const SANDBOX_ENV = 'SKILL_EVAL_LOCAL_SANDBOX';

/** `SKILL_EVAL_LOCAL_SANDBOX`: `0`/`false`/`off` turn the sandbox off, `1`/`true`/`require` make it mandatory. */
export function sandboxModeFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxMode {
  const value = env[SANDBOX_ENV]?.trim().toLowerCase();
  if (value === '0' || value === 'false' || value === 'off' || value === 'no') return 'off';
  if (value === '1' || value === 'true' || value === 'require' || value === 'on' || value === 'yes') return 'require';
  return 'auto';
}

export type SandboxProbe = { available: true; bwrap: string } | { available: false; reason: string };

/** The environment's `env` inside the sandbox: from the host's /usr, which the sandbox shows read-only. */
const ENV_BINARY = '/usr/bin/env';
/**
 * The sandbox's PID 1, between bwrap and the command: `timeout --foreground 0` (no time limit) passes a SIGTERM on to
 * the command and exits with its status. bwrap's own init would do, but bwrap exits without reaping it, which leaves
 * a zombie for the host's PID 1 to reap — forever where that is no real init (containers, CI).
 */
const TIMEOUT_BINARY = '/usr/bin/timeout';

let probed: SandboxProbe | undefined;

/** Whether bubblewrap can build the sandbox here; probed once per process with a trivial sandboxed command. */
export function probeSandbox(): SandboxProbe {
  probed ??= probe();
  return probed;
}

function probe(): SandboxProbe {
  const bwrap = findExecutable('bwrap');
  if (bwrap === undefined) return { available: false, reason: 'bubblewrap (bwrap) is not installed' };
  const run = spawnSync(
    bwrap,
    [...NAMESPACE_ARGS, '--unshare-net', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--as-pid-1']
      // `env --default-signal` (coreutils 8.31+) gives the command back the SIGTERM its launcher ignores.
      .concat([ENV_BINARY, '--default-signal=TERM', TIMEOUT_BINARY, '--foreground', '0', 'true']),
    { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (run.status === 0) return { available: true, bwrap };
  const why = run.error?.message ?? (run.stderr.trim().split('\n').at(-1) || `exit ${run.status ?? run.signal}`);
  return { available: false, reason: `${bwrap} cannot create a sandbox here (${why}; are user namespaces disabled?)` };
}

/** An absolute path found on the host's PATH: the trial's own bin directories never choose the sandbox's binary. */
function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Own PID and IPC namespaces, no capabilities (even as root), killed with skill-eval. */
const NAMESPACE_ARGS = [
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-cgroup-try',
  '--die-with-parent',
  '--cap-drop',
  'ALL',
];

/** The host's toolchain, shown read-only: programs, libraries and system configuration. Never /root, /home, /tmp. */
const TOOLCHAIN = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt', '/sys'];

let toolchain: string[] | undefined;

function covered(path: string): boolean {
  return TOOLCHAIN.some((dir) => path === dir || path.startsWith(`${dir}/`));
}

/** Mount arguments for the toolchain (merged-/usr links stay links), node's own prefix and a resolver file elsewhere. */
function toolchainArgs(): string[] {
  if (toolchain) return toolchain;
  const args: string[] = [];
  for (const dir of TOOLCHAIN) {
    try {
      const info = lstatSync(dir);
      if (info.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else if (info.isDirectory()) args.push('--ro-bind', dir, dir);
    } catch {
      // not on this host
    }
  }
  // Agent CLIs run with skill-eval's own node (process.execPath), wherever it is installed (nvm puts it in HOME).
  const nodePrefix = dirname(dirname(realpathSync(process.execPath)));
  if (!covered(nodePrefix)) args.push('--ro-bind', nodePrefix, nodePrefix);
  for (const file of ['/etc/resolv.conf', '/etc/hosts']) {
    try {
      const real = realpathSync(file);
      if (!covered(real)) args.push('--ro-bind', real, real);
    } catch {
      // absent or dangling: the sandbox sees the same
    }
  }
  args.push(...maskPrivate('/etc'));
  toolchain = args;
  return toolchain;
}

/**
 * What other users may not read in a shown directory (`/etc/shadow`, SSH host keys) the sandbox does not show either:
 * such a file is covered by /dev/null (which cannot be opened there: bwrap mounts nodev), such a directory by an empty
 * tmpfs. It matters when skill-eval runs as root, who could read them otherwise.
 */
function maskPrivate(dir: string): string[] {
  const args: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return args;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    let mode: number;
    try {
      mode = lstatSync(path).mode;
    } catch {
      continue;
    }
    if (entry.isDirectory()) {
      if ((mode & 0o005) !== 0o005) args.push('--tmpfs', path);
      else args.push(...maskPrivate(path));
    } else if (entry.isFile() && (mode & 0o004) === 0) {
      args.push('--ro-bind', '/dev/null', path);
    }
  }
  return args;
}

/**
 * Where agent CLIs are installed on the host (as src/agents/cli/install.ts computes it; environments/ may not import
 * agents/): shown read-only so the local provider can start them, the rest of the cache stays hidden.
 */
function agentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.SKILL_EVAL_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'skill-eval') : undefined);
  return join(base ?? join(homedir(), '.cache', 'skill-eval'), 'agents');
}

export const SANDBOX_BIND_ENV = 'SKILL_EVAL_LOCAL_SANDBOX_BIND';

/** `SKILL_EVAL_LOCAL_SANDBOX_BIND`: more host directories shown read-only (toolchains in HOME: pyenv, nvm, cargo). */
function extraReadOnly(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[SANDBOX_BIND_ENV] ?? '').split(delimiter).filter((dir) => dir.startsWith('/'));
}

export interface SandboxedCommand {
  /** bwrap, found on the host's PATH at the probe. */
  bwrap: string;
  /** The trial root: read-write, at its host path (paths inside and outside the sandbox are the same). */
  root: string;
  cwd: string;
  /** PATH inside the sandbox (the trial's bin directories first). */
  path: string;
  /** Loopback only. */
  offline: boolean;
  /** Host directories shown read-write at another path (host, sandbox): the model gateway's socket directory. */
  binds?: ReadonlyArray<readonly [string, string]> | undefined;
}

/**
 * The bash command line that runs `command` in the sandbox. The launcher (then bwrap) ignores SIGTERM, so a stop's
 * SIGTERM to the process group reaches only the command and what it started (which get the grace period to exit);
 * the SIGKILL that follows kills bwrap, and with it every process of the sandbox. When the command ends, the sandbox
 * ends, with whatever it left running. The trial's tmp is the sandbox's /tmp, so /tmp lasts as long as the trial, as
 * in a container.
 */
export function sandboxCommand(command: string, sandbox: SandboxedCommand): string {
  const { root, cwd } = sandbox;
  const args = [...NAMESPACE_ARGS, ...(sandbox.offline ? ['--unshare-net'] : []), ...toolchainArgs()];
  args.push('--proc', '/proc', '--dev', '/dev', '--bind', join(root, 'tmp'), '/tmp', '--bind', root, root);
  for (const dir of [agentCacheDir(), ...extraReadOnly()]) if (existsSync(dir)) args.push('--ro-bind', dir, dir);
  for (const [host, inside] of sandbox.binds ?? []) args.push('--bind', host, inside);
  args.push('--chdir', cwd, '--setenv', 'PATH', sandbox.path, '--as-pid-1', '--', ENV_BINARY, '--default-signal=TERM');
  args.push(TIMEOUT_BINARY, '--foreground', '0', 'bash');
  args.push(...bashArguments(command));
  return `trap '' TERM; exec ${[sandbox.bwrap, ...args].map(shellQuote).join(' ')}`;
}
