import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { AgentError, errorMessage, InfraError, InterruptedError } from '../../errors.js';
import { cacheDir } from '../../util/cache-dir.js';

/**
 * Agent CLIs are real npm packages at pinned versions, installed once per machine into a cache directory and
 * reused by every trial (never per trial): `~/.cache/skill-eval/agents/<agent>@<version>/`.
 */

export interface AgentPackage {
  /** The agent's name in skill-eval (`claude`). */
  agent: string;
  /** npm package (`@anthropic-ai/claude-code`). */
  npmPackage: string;
  /** Pinned, documented version (docs/agents.md). */
  version: string;
  /**
   * What skill-eval adds to the package itself (postInstall: a bundled script), as a short content hash: part of
   * the cache directory and image tag, so a changed script is installed afresh rather than found stale.
   */
  revision?: string | undefined;
  /**
   * How to start the CLI from an install root, as argv (before the CLI's own flags). Paths are relative to the
   * root and tried in order; the first that exists (and is not a tiny install-script placeholder) wins.
   */
  launch: LaunchCandidate[];
  /** Directories (relative to the install root) put first on the CLI's PATH, for helper binaries installed with it. */
  pathDirs?: string[] | undefined;
  /** Extra setup after npm, in the staging root (e.g. a helper binary the CLI would otherwise download at run time). */
  postInstall?: ((root: string, log: (line: string) => void) => Promise<void>) | undefined;
}

export interface LaunchCandidate {
  /** Path of the executable or script, relative to the install root. */
  path: string;
  /** Run as `node <path>` (JavaScript entry points) instead of executing the file. */
  node?: boolean | undefined;
  /** Wrapper packages ship a small stub that their postinstall replaces with the native binary: skip it when it is this small. */
  minBytes?: number | undefined;
}

/** A CLI ready to run: the argv prefix and the directory it lives in. */
export interface InstalledCli {
  root: string;
  argv: string[];
}

const MARKER = '.skill-eval-installed.json';

export { cacheDir };

/** `<agent>@<version>`, plus `-<revision>` when skill-eval adds to the package: its name in the cache and images. */
export function packageKey(pkg: AgentPackage): string {
  return `${pkg.agent}@${pkg.version}${pkg.revision ? `-${pkg.revision}` : ''}`;
}

export function installDir(pkg: AgentPackage, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'agents', packageKey(pkg));
}

/** Resolves the launch argv inside an install root (host paths); undefined when nothing usable is there. */
export function resolveLaunch(
  pkg: AgentPackage,
  root: string,
  nodePath: string = process.execPath,
): string[] | undefined {
  for (const candidate of pkg.launch) {
    const path = join(root, candidate.path);
    if (!existsSync(path)) continue;
    if (candidate.minBytes !== undefined && statSync(path).size < candidate.minBytes) continue;
    return candidate.node ? [nodePath, path] : [path];
  }
  return undefined;
}

/** The installed CLI in the cache, or undefined when it is not installed (or the install is incomplete). */
export function findInstalled(pkg: AgentPackage, env: NodeJS.ProcessEnv = process.env): InstalledCli | undefined {
  const root = installDir(pkg, env);
  if (!existsSync(join(root, MARKER))) return undefined;
  const argv = resolveLaunch(pkg, root);
  return argv ? { root, argv } : undefined;
}

export interface InstallOptions {
  signal?: AbortSignal | undefined;
  /** Progress lines (npm's output). */
  log?: ((line: string) => void) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** Installs running in this process, so concurrent trials share one npm run. */
const inFlight = new Map<string, Promise<InstalledCli>>();

/**
 * Installs the pinned package into the cache unless it is already there. Installs into a temporary sibling and
 * renames it into place, so a crash never leaves a half-installed CLI that looks complete, and two processes
 * installing at once both end with the same directory.
 */
export async function ensureInstalled(pkg: AgentPackage, options: InstallOptions = {}): Promise<InstalledCli> {
  const env = options.env ?? process.env;
  const existing = findInstalled(pkg, env);
  if (existing) return existing;
  const root = installDir(pkg, env);
  let pending = inFlight.get(root);
  if (!pending) {
    pending = install(pkg, root, options).finally(() => inFlight.delete(root));
    inFlight.set(root, pending);
  }
  return pending;
}

/**
 * ensureInstalled for the step before any trial (`skill-eval agents install`, the install ahead of a job): there a
 * CLI that cannot be installed is the agent's error (exit 4, docs/exit-codes.md) and a cancel is an interrupt.
 * Inside a trial the same failure stays an InfraError: an npm outage is never the agent's failed trial.
 */
export async function ensureInstalledOutsideTrial(
  pkg: AgentPackage,
  options: InstallOptions = {},
): Promise<InstalledCli> {
  try {
    return await ensureInstalled(pkg, options);
  } catch (error) {
    const spec = `${pkg.npmPackage}@${pkg.version}`;
    if (options.signal?.aborted)
      throw new InterruptedError(`installation of ${spec} cancelled; no trial ran`, { cause: error });
    throw new AgentError(`the ${pkg.agent} agent CLI could not be installed: ${errorMessage(error)}`, {
      cause: error,
      hint: error instanceof InfraError ? error.hint : undefined,
    });
  }
}

async function install(pkg: AgentPackage, root: string, options: InstallOptions): Promise<InstalledCli> {
  const staging = `${root}.tmp-${randomBytes(4).toString('hex')}`;
  const spec = `${pkg.npmPackage}@${pkg.version}`;
  options.log?.(`installing ${spec} into ${root}`);
  try {
    await mkdir(staging, { recursive: true });
    // A private package.json keeps npm from walking up into an unrelated project.
    await writeFile(
      join(staging, 'package.json'),
      JSON.stringify({ name: 'skill-eval-agent-cache', private: true }, undefined, 2),
    );
    const npm = await execa(
      'npm',
      ['install', '--prefix', staging, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', spec],
      {
        cwd: staging,
        env: { ...options.env, npm_config_update_notifier: 'false' },
        cancelSignal: options.signal,
        reject: false,
        all: true,
        timeout: 15 * 60_000,
      },
    );
    if (npm.exitCode !== 0) {
      throw new InfraError(
        `npm install ${spec} failed (exit ${npm.exitCode ?? 'none'}): ${tail(String(npm.all ?? ''), 1500)}`,
        {
          hint: 'the agent CLIs install from the npm registry; check that npm can reach it (npm ping)',
        },
      );
    }
    await pkg.postInstall?.(staging, options.log ?? (() => undefined));
    if (!resolveLaunch(pkg, staging)) {
      throw new InfraError(
        `npm installed ${spec}, but none of its entry points exist: ${pkg.launch.map((c) => c.path).join(', ')}`,
        {
          retryable: false,
          hint: 'the package layout changed; the pinned version in src/agents may need updating',
        },
      );
    }
    await writeFile(
      join(staging, MARKER),
      JSON.stringify(
        { package: pkg.npmPackage, version: pkg.version, installedAt: new Date().toISOString() },
        undefined,
        2,
      ),
    );
    try {
      await rename(staging, root);
    } catch (error) {
      // Another process finished first: keep its copy.
      if (!findInstalled(pkg, options.env ?? process.env)) throw error;
    }
  } catch (error) {
    if (error instanceof InfraError) throw error;
    throw new InfraError(`could not install ${spec} into ${root}: ${errorMessage(error)}`, { cause: error });
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
  const installed = findInstalled(pkg, options.env ?? process.env);
  if (!installed)
    throw new InfraError(`${spec} was installed into ${root} but cannot be found there`, { retryable: false });
  return installed;
}

/** What `skill-eval agents` shows about the cache. */
export async function installInfo(
  pkg: AgentPackage,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ installed: boolean; path: string; installedAt?: string | undefined }> {
  const path = installDir(pkg, env);
  if (!findInstalled(pkg, env)) return { installed: false, path };
  try {
    const marker = JSON.parse(await readFile(join(path, MARKER), 'utf8')) as { installedAt?: unknown };
    return {
      installed: true,
      path,
      installedAt: typeof marker.installedAt === 'string' ? marker.installedAt : undefined,
    };
  } catch {
    return { installed: true, path };
  }
}

export function tail(text: string, chars: number): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= chars ? trimmed : `…${trimmed.slice(-chars)}`;
}
