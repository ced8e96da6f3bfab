import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.org',
  GIT_COMMITTER_NAME: 'fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.org',
};

/** Turns a fixture directory into a bare git repository (one commit) and returns its file:// URL. */
export async function gitRepoFromFixture(fixtureDir: string, name: string): Promise<{ url: string; commit: string }> {
  const root = await mkdtemp(join(tmpdir(), 'skill-eval-gitfix-'));
  const work = join(root, 'work');
  await cp(fixtureDir, work, { recursive: true });
  const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd, env: GIT_ENV });
  await git(work, 'init', '-q', '-b', 'main');
  await git(work, 'add', '-A');
  await git(work, 'commit', '-q', '-m', `${name} fixture`);
  const commit = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
  const bare = join(root, `${name}.git`);
  await git(root, 'clone', '-q', '--bare', work, bare);
  return { url: `file://${bare}`, commit };
}
