import { existsSync } from 'node:fs';
import { readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkoutGitSkill } from '../../src/skills/git.js';
import { type GitSkillSpec, parseSkillSpec } from '../../src/skills/spec.js';
import { tempDir } from '../helpers/trials.js';
import { git, makeSkillsRepo, type SkillsRepo } from './git-repo.js';

let repo: SkillsRepo;

beforeAll(async () => {
  repo = await makeSkillsRepo();
});

function spec(value: string): GitSkillSpec {
  const parsed = parseSkillSpec(value);
  if (parsed.kind !== 'git') throw new Error(`${value} is not a git spec`);
  return parsed;
}

async function freshCache(): Promise<string> {
  return join(await tempDir('skill-cache'), 'skills');
}

async function failure(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('checkoutGitSkill', () => {
  it('resolves an annotated tag, a lightweight tag, a branch, HEAD, a full and a short commit', async () => {
    const cacheRoot = await freshCache();
    const { v1, main, dev } = repo.commits;
    const cases: Array<[string, string]> = [
      [`${repo.url}#v1`, v1],
      [`${repo.url}#first`, v1],
      [`${repo.url}#refs/tags/v1`, v1],
      [`${repo.url}#main`, main],
      [`${repo.url}#dev`, dev],
      [repo.url, main],
      [`${repo.url}#${dev}`, dev],
      [`${repo.url}#${v1.slice(0, 8)}`, v1],
    ];
    for (const [value, commit] of cases) {
      const checkout = await checkoutGitSkill(spec(value), { cacheRoot });
      expect([value, checkout.commit]).toEqual([value, commit]);
      expect(checkout.root).toBe(join(cacheRoot, commit));
    }
    // The tree at the commit, without .git; the script keeps its execute bit.
    const devTree = join(cacheRoot, dev);
    expect((await readdir(join(devTree, 'skills'))).sort()).toEqual(['csv', 'lint', 'pdf']);
    expect(existsSync(join(devTree, '.git'))).toBe(false);
    expect((await stat(join(devTree, 'skills', 'pdf', 'scripts', 'run.sh'))).mode & 0o111).not.toBe(0);
    // One folder and one marker per commit; no staging left behind.
    expect((await readdir(cacheRoot)).sort()).toEqual(
      [dev, `${dev}.json`, main, `${main}.json`, v1, `${v1}.json`].sort(),
    );
  });

  it('uses the cache without any clone: a commit there needs no repository at all', async () => {
    const cacheRoot = await freshCache();
    const first = await checkoutGitSkill(spec(`${repo.url}#v1`), { cacheRoot });
    expect(first.fromCache).toBe(false);
    const again = await checkoutGitSkill(spec(`${repo.url}#v1`), { cacheRoot });
    expect(again).toEqual({ ...first, fromCache: true });

    const moved = `${repo.dir}-moved`;
    await rename(repo.dir, moved);
    try {
      // A commit (given, or pinned by a lock) is found in the cache: the repository is not even read.
      expect((await checkoutGitSkill(spec(`${repo.url}#${repo.commits.v1}`), { cacheRoot })).fromCache).toBe(true);
      const pinned = await checkoutGitSkill(spec(`${repo.url}#main`), { cacheRoot, commit: repo.commits.v1 });
      expect(pinned).toMatchObject({ commit: repo.commits.v1, fromCache: true });
      // A tag has to be looked up: without the repository that is one clear error.
      const error = await failure(checkoutGitSkill(spec(`${repo.url}#v1`), { cacheRoot }));
      expect(error.message).toContain(`--skill ${repo.url}#v1: cannot read the git repository ${repo.url}`);
      expect(error.message).toMatch(/expected a reachable git repository; found .+/);
    } finally {
      await rename(moved, repo.dir);
    }
  });

  it('fetches a locked commit even when the ref has moved on', async () => {
    const cacheRoot = await freshCache();
    const pinned = await checkoutGitSkill(spec(`${repo.url}#main`), { cacheRoot, commit: repo.commits.v1 });
    expect(pinned).toMatchObject({ commit: repo.commits.v1, fromCache: false });
    expect((await readdir(join(pinned.root, 'skills'))).sort()).toEqual(['csv', 'pdf']);
  });

  it('reads a bare local repository given as a path ending in .git, and git+file URLs', async () => {
    const bare = `${repo.dir}.git`;
    if (!existsSync(bare)) git(join(repo.dir, '..'), 'clone', '--quiet', '--bare', repo.dir, bare);
    const cacheRoot = await freshCache();
    expect((await checkoutGitSkill(spec(`${bare}#v1`), { cacheRoot })).commit).toBe(repo.commits.v1);
    expect((await checkoutGitSkill(spec(`git+file://${repo.dir}#dev`), { cacheRoot })).commit).toBe(repo.commits.dev);
  });

  it('names the value, what was expected and what was found for a ref the repository lacks', async () => {
    const cacheRoot = await freshCache();
    const error = await failure(checkoutGitSkill(spec(`${repo.url}#v9`), { cacheRoot }));
    expect(error.message).toBe(
      `--skill ${repo.url}#v9: no branch or tag "v9" in ${repo.url}; expected a branch, tag or commit of the repository; found dev, main, first, v1`,
    );
    const commit = await failure(checkoutGitSkill(spec(`${repo.url}#${'0'.repeat(40)}`), { cacheRoot }));
    expect(commit.message).toMatch(
      /cannot fetch ref "0{40}" \(commit 0{40}\) from file:\/\/.+; expected a commit the repository has; found .+/,
    );
    const short = await failure(checkoutGitSkill(spec(`${repo.url}#abcdef1`), { cacheRoot }));
    expect(short.message).toMatch(/no commit abcdef1 in file:\/\//);
    const missing = await failure(checkoutGitSkill(spec(`file://${repo.dir}-nowhere#v1`), { cacheRoot }));
    expect(missing.message).toMatch(/cannot read the git repository file:\/\/.+-nowhere/);
    const secret = await failure(
      checkoutGitSkill(spec('https://bot:s3cr3t-token@127.0.0.1:9/none.git#v1'), { cacheRoot, timeoutMs: 20_000 }),
    );
    expect(secret.message).toMatch(
      /^--skill https:\/\/127\.0\.0\.1:9\/none\.git#v1: cannot read the git repository https:\/\/127\.0\.0\.1:9\/none\.git;/,
    );
    expect(secret.message).not.toContain('s3cr3t');
    expect(existsSync(cacheRoot) ? (await readdir(cacheRoot)).filter((n) => n.startsWith('.tmp')) : []).toEqual([]);
  });
});
