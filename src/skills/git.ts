import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { type GitOptions, gitReason, runGit } from '../util/git.js';
import { type GitSkillSpec, publicUrl, skillSpecSecrets } from './spec.js';

/**
 * Git skills, cached by commit: `<cache>/skills/<commit>/` holds the repository's files at that commit (no `.git`),
 * `<cache>/skills/<commit>.json` marks it complete. A commit already there is used without any network or clone;
 * a branch or tag costs one `git ls-remote`; a new commit one shallow fetch of that commit alone.
 */

export interface GitCheckout {
  commit: string;
  /** The repository's files at `commit`. */
  root: string;
  /** It was in the cache: nothing was fetched. */
  fromCache: boolean;
}

export interface CheckoutOptions extends Pick<GitOptions, 'signal' | 'timeoutMs'> {
  /** `<cache>/skills`. */
  cacheRoot: string;
  /** Use this commit (a resumed job's lock), whatever the ref points at now. */
  commit?: string | undefined;
}

const FULL_SHA = /^[0-9a-f]{40}$/i;
const SHORT_SHA = /^[0-9a-f]{7,39}$/i;

function failure(spec: GitSkillSpec, message: string, expected: string, found?: string): UsageError {
  const parts = [`--skill ${spec.spec}: ${message}`, `expected ${expected}`];
  // git leaves a URL's credentials out of its messages; older versions or odd transports may not.
  if (found !== undefined)
    parts.push(
      `found ${skillSpecSecrets([spec.url]).reduce((text, secret) => text.replaceAll(secret, '[REDACTED]'), found)}`,
    );
  return new UsageError(parts.join('; '));
}

interface RemoteRefs {
  refs: Map<string, string>;
}

async function listRemote(spec: GitSkillSpec, options: CheckoutOptions): Promise<RemoteRefs> {
  const run = await runGit(['ls-remote', '--', spec.url], options);
  if (!run.ok)
    throw failure(
      spec,
      `cannot read the git repository ${publicUrl(spec.url)}`,
      'a reachable git repository',
      gitReason(run),
    );
  const refs = new Map<string, string>();
  for (const line of run.stdout.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  return { refs };
}

/** The commit a ref names, as git would pick it: an exact ref, then a tag (peeled), then a branch. */
function commitOfRef(remote: RemoteRefs, ref: string | undefined): string | undefined {
  if (ref === undefined) return remote.refs.get('HEAD');
  const candidates = ref.startsWith('refs/') ? [ref] : [`refs/tags/${ref}`, `refs/heads/${ref}`];
  for (const name of candidates) {
    const sha = remote.refs.get(`${name}^{}`) ?? remote.refs.get(name);
    if (sha) return sha;
  }
  return undefined;
}

function someRefs(remote: RemoteRefs): string {
  const names = [...remote.refs.keys()]
    .filter((name) => /^refs\/(heads|tags)\//.test(name) && !name.endsWith('^{}'))
    .map((name) => name.replace(/^refs\/(heads|tags)\//, ''));
  if (names.length === 0) return 'no branches or tags';
  return `${names.slice(0, 12).join(', ')}${names.length > 12 ? `, … (${names.length} in all)` : ''}`;
}

/** Fetches one commit (shallow), or every branch and tag when `want` is undefined, into a fresh bare repository. */
async function fetchInto(repo: string, spec: GitSkillSpec, want: string | undefined, options: CheckoutOptions) {
  const init = await runGit(['init', '--quiet', '--bare', repo], options);
  if (!init.ok) return init;
  const refspecs = want === undefined ? ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'] : [want];
  const depth = want === undefined ? [] : ['--depth=1'];
  return runGit(['--git-dir', repo, 'fetch', '--quiet', '--no-tags', ...depth, '--', spec.url, ...refspecs], options);
}

/** Checks the commit out into `<cacheRoot>/<commit>` (no `.git`) and marks it complete. */
async function materialize(stage: string, repo: string, commit: string, spec: GitSkillSpec, options: CheckoutOptions) {
  const tree = join(stage, 'tree');
  await mkdir(tree, { recursive: true });
  const checkout = await runGit(
    [
      '--git-dir',
      repo,
      '--work-tree',
      tree,
      '-c',
      'core.autocrlf=false',
      'checkout',
      '--quiet',
      '-f',
      commit,
      '--',
      '.',
    ],
    options,
  );
  if (!checkout.ok)
    throw failure(spec, `cannot check out commit ${commit}`, 'a commit git can check out', gitReason(checkout));
  const dir = join(options.cacheRoot, commit);
  await rm(dir, { recursive: true, force: true });
  await rename(tree, dir).catch(async (error: unknown) => {
    // Another run put the same commit there first: theirs has the same files.
    if (!existsSync(markerOf(options.cacheRoot, commit))) throw error;
  });
  await writeJsonAtomic(markerOf(options.cacheRoot, commit), {
    url: publicUrl(spec.url),
    ref: spec.ref,
    commit,
    fetched_at: new Date().toISOString(),
  });
}

function markerOf(cacheRoot: string, commit: string): string {
  return join(cacheRoot, `${commit}.json`);
}

function cached(cacheRoot: string, commit: string): GitCheckout | undefined {
  if (!existsSync(markerOf(cacheRoot, commit))) return undefined;
  return { commit, root: join(cacheRoot, commit), fromCache: true };
}

/** Fetches what `want` names and returns its commit (a short sha is looked up among every branch and tag). */
async function fetchCommit(repo: string, spec: GitSkillSpec, want: string, options: CheckoutOptions): Promise<string> {
  const fetched = await fetchInto(repo, spec, FULL_SHA.test(want) ? want : undefined, options);
  if (!fetched.ok) {
    const what = spec.ref === undefined ? 'the default branch' : `ref ${JSON.stringify(spec.ref)}`;
    throw failure(
      spec,
      `cannot fetch ${what} (commit ${want}) from ${publicUrl(spec.url)}`,
      'a commit the repository has',
      gitReason(fetched),
    );
  }
  const parsed = await runGit(['--git-dir', repo, 'rev-parse', '--verify', '--quiet', `${want}^{commit}`], options);
  if (!parsed.ok)
    throw failure(
      spec,
      `no commit ${want} in ${publicUrl(spec.url)}`,
      'a branch, tag or commit of the repository',
      'none reachable from its branches and tags',
    );
  return parsed.stdout.toLowerCase();
}

/** The repository's files at the commit the spec names (or the pinned one), from the cache or fetched into it. */
export async function checkoutGitSkill(spec: GitSkillSpec, options: CheckoutOptions): Promise<GitCheckout> {
  let commit =
    options.commit?.toLowerCase() ?? (spec.ref && FULL_SHA.test(spec.ref) ? spec.ref.toLowerCase() : undefined);
  const hit = commit && cached(options.cacheRoot, commit);
  if (hit) return hit;
  if (commit === undefined) {
    const remote = await listRemote(spec, options);
    commit = commitOfRef(remote, spec.ref);
    if (commit === undefined && !(spec.ref && SHORT_SHA.test(spec.ref)))
      throw failure(
        spec,
        spec.ref === undefined
          ? `${publicUrl(spec.url)} has no default branch (HEAD)`
          : `no branch or tag ${JSON.stringify(spec.ref)} in ${publicUrl(spec.url)}`,
        'a branch, tag or commit of the repository',
        someRefs(remote),
      );
    const known = commit && cached(options.cacheRoot, commit);
    if (known) return known;
  }
  await mkdir(options.cacheRoot, { recursive: true });
  const stage = join(options.cacheRoot, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    const repo = join(stage, 'repo.git');
    const fetched = await fetchCommit(repo, spec, commit ?? spec.ref!, options);
    const again = cached(options.cacheRoot, fetched);
    if (again) return again;
    await materialize(stage, repo, fetched, spec, options);
    return { commit: fetched, root: join(options.cacheRoot, fetched), fromCache: false };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
