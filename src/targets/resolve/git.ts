import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { InfraError, UsageError } from '../../errors.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';

export interface GitResolveOptions {
  url: string;
  revision?: string | undefined;
  slug: string;
  cacheDir: string;
  offline?: boolean | undefined;
  timeoutMs?: number | undefined;
}

export interface GitResolved {
  dir: string;
  commit: string;
  revision: string;
  fromCache: boolean;
  notes: string[];
}

const FULL_SHA = /^[0-9a-f]{40}$/i;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function git(
  args: string[],
  options: { cwd?: string; timeoutMs?: number | undefined } = {},
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const result = await execa('git', args, {
    cwd: options.cwd,
    reject: false,
    timeout: options.timeoutMs ?? 600_000,
    stdin: 'ignore',
    // Never wait for a password prompt: a private repo without credentials fails at once.
    env: { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'echo', LC_ALL: 'C' },
  });
  return { ok: result.exitCode === 0, stdout: String(result.stdout).trim(), stderr: String(result.stderr).trim() };
}

function classifyGitFailure(url: string, stderr: string): InfraError | UsageError {
  if (/authentication|could not read Username|permission denied|403/i.test(stderr)) {
    return new InfraError(`git ${url}: authentication failed`, {
      retryable: false,
      hint: 'configure a credential helper or an SSH key for this host',
    });
  }
  if (/not found|does not exist|does not appear to be a git repository/i.test(stderr))
    return new UsageError(`git ${url}: repository not found (${stderr.split('\n').pop()})`);
  return new InfraError(`git ${url}: ${stderr.split('\n').slice(-2).join(' ') || 'failed'}`, { retryable: true });
}

/**
 * Clones a git target at a pinned commit into the cache: one bare mirror per URL, one checkout per commit.
 * A full commit sha already checked out is used without any network; otherwise the mirror is fetched (or,
 * offline or when the fetch fails, used as it is).
 */
export async function resolveGitTarget(options: GitResolveOptions): Promise<GitResolved> {
  const root = join(
    options.cacheDir,
    'git',
    `${options.slug}-${createHash('sha256').update(options.url).digest('hex').slice(0, 8)}`,
  );
  const mirror = join(root, 'mirror.git');
  const checkouts = join(root, 'checkouts');
  const revision = options.revision ?? 'HEAD';
  const notes: string[] = [];

  if (FULL_SHA.test(revision) && (await exists(join(checkouts, `${revision.toLowerCase()}.json`)))) {
    return {
      dir: join(checkouts, revision.toLowerCase()),
      commit: revision.toLowerCase(),
      revision,
      fromCache: true,
      notes: ['commit found in the cache; no network used'],
    };
  }

  await mkdir(root, { recursive: true });
  const haveMirror = await exists(join(mirror, 'HEAD'));
  if (options.offline) {
    if (!haveMirror)
      throw new InfraError(`git ${options.url}: not in the cache (${root}) and offline`, {
        retryable: false,
        hint: 'run once with network access to populate the cache',
      });
    notes.push('offline: using the cached mirror as last fetched');
  } else if (!haveMirror) {
    const temp = `${mirror}.tmp-${randomBytes(4).toString('hex')}`;
    const cloned = await git(['clone', '--mirror', '--quiet', options.url, temp], { timeoutMs: options.timeoutMs });
    if (!cloned.ok) {
      await rm(temp, { recursive: true, force: true });
      throw classifyGitFailure(options.url, cloned.stderr);
    }
    await rename(temp, mirror).catch(async (error: NodeJS.ErrnoException) => {
      // Another process cloned it first: theirs is as good as ours.
      await rm(temp, { recursive: true, force: true });
      if (!(await exists(join(mirror, 'HEAD')))) throw error;
    });
  } else {
    const fetched = await git(['fetch', '--prune', '--quiet', 'origin'], { cwd: mirror, timeoutMs: options.timeoutMs });
    if (!fetched.ok) notes.push(`fetch failed, using the cached mirror: ${fetched.stderr.split('\n').pop()}`);
  }

  let parsed = await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { cwd: mirror });
  if (!parsed.ok && !options.offline && /^[0-9a-f]{7,40}$/i.test(revision)) {
    // A commit no ref points at: ask the server for it directly.
    await git(['fetch', '--quiet', 'origin', revision], { cwd: mirror, timeoutMs: options.timeoutMs });
    parsed = await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { cwd: mirror });
  }
  if (!parsed.ok)
    throw new UsageError(`git ${options.url}: revision ${JSON.stringify(revision)} not found`, {
      hint: 'give a branch, tag or commit that exists: URL#REV',
    });
  const commit = parsed.stdout;

  const dir = join(checkouts, commit);
  const marker = join(checkouts, `${commit}.json`);
  if (await exists(marker)) return { dir, commit, revision, fromCache: true, notes };
  await mkdir(checkouts, { recursive: true });
  const temp = join(checkouts, `.tmp-${commit}-${randomBytes(4).toString('hex')}`);
  const cloned = await git(['clone', '--quiet', '--no-checkout', mirror, temp]);
  const checkedOut = cloned.ok ? await git(['checkout', '--quiet', '--detach', commit], { cwd: temp }) : cloned;
  if (!checkedOut.ok) {
    await rm(temp, { recursive: true, force: true });
    throw new InfraError(`git ${options.url}: checkout of ${commit} failed: ${checkedOut.stderr}`);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(temp, dir);
  await writeJsonAtomic(marker, { url: options.url, revision, commit, fetched_at: new Date().toISOString() });
  return { dir, commit, revision, fromCache: false, notes };
}
