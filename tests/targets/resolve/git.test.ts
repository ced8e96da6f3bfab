import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../src/targets/resolve/index.js';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.org',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.org',
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd, env: GIT_ENV })).stdout.trim();
}

/** A bare repo with two commits on main and a tag on the first; returns its file:// URL and commits. */
async function makeRepo(): Promise<{ url: string; first: string; second: string; work: string; bare: string }> {
  const root = await mkdtemp(join(tmpdir(), 'skill-eval-git-'));
  const work = join(root, 'work');
  await mkdir(work);
  await git(work, 'init', '-q', '-b', 'main');
  await writeFile(join(work, 'VERSION'), '1\n');
  await git(work, 'add', '.');
  await git(work, 'commit', '-q', '-m', 'one');
  await git(work, 'tag', 'v1');
  const first = await git(work, 'rev-parse', 'HEAD');
  await writeFile(join(work, 'VERSION'), '2\n');
  await git(work, 'commit', '-q', '-am', 'two');
  const second = await git(work, 'rev-parse', 'HEAD');
  const bare = join(root, 'bench.git');
  await git(root, 'clone', '-q', '--bare', work, bare);
  return { url: `file://${bare}`, first, second, work, bare };
}

describe('git targets', () => {
  it('clones at a pinned revision into the cache; a cached commit needs no network', async () => {
    const repo = await makeRepo();
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    const head = await resolveTarget(repo.url, { cacheDir });
    expect(head).toMatchObject({
      kind: 'git',
      slug: expect.stringMatching(/-bench$/),
      commit: repo.second,
      fromCache: false,
    });
    expect(await readFile(join(head.dir, 'VERSION'), 'utf8')).toBe('2\n');

    const tagged = await resolveTarget(`${repo.url}#v1`, { cacheDir });
    expect(tagged).toMatchObject({ commit: repo.first, revision: 'v1' });
    expect(await readFile(join(tagged.dir, 'VERSION'), 'utf8')).toBe('1\n');

    // The remote goes away: a pinned commit and the cached mirror still work.
    await execa('rm', ['-rf', repo.bare]);
    const pinned = await resolveTarget(`${repo.url}#${repo.first}`, { cacheDir });
    expect(pinned).toMatchObject({ commit: repo.first, fromCache: true, dir: tagged.dir });
    const offline = await resolveTarget(`${repo.url}#main`, { cacheDir, offline: true });
    expect(offline.commit).toBe(repo.second);
    const fetchFailed = await resolveTarget(`${repo.url}#main`, { cacheDir });
    expect(fetchFailed.notes.join(' ')).toMatch(/fetch failed, using the cached mirror/);
  });

  it('fetches new commits of a branch on the next resolve', async () => {
    const repo = await makeRepo();
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    expect((await resolveTarget(`${repo.url}#main`, { cacheDir })).commit).toBe(repo.second);
    await writeFile(join(repo.work, 'VERSION'), '3\n');
    await git(repo.work, 'commit', '-q', '-am', 'three');
    await git(repo.work, 'push', '-q', repo.bare, 'main');
    const third = await git(repo.work, 'rev-parse', 'HEAD');
    const updated = await resolveTarget(`${repo.url}#main`, { cacheDir });
    expect(updated.commit).toBe(third);
    expect(await readFile(join(updated.dir, 'VERSION'), 'utf8')).toBe('3\n');
  });

  it('names an unknown revision or repository', async () => {
    const repo = await makeRepo();
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    await expect(resolveTarget(`${repo.url}#no-such-branch`, { cacheDir })).rejects.toThrow(
      /revision "no-such-branch" not found/,
    );
    await expect(resolveTarget('file:///nonexistent/repo.git', { cacheDir })).rejects.toThrow(
      /git file:\/\/\/nonexistent\/repo\.git: /,
    );
    await expect(resolveTarget('file:///nonexistent/repo.git', { cacheDir, offline: true })).rejects.toThrow(
      /not in the cache .* and offline/,
    );
  });
});
