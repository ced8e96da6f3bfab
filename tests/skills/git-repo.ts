import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/trials.js';

/** Runs git in `cwd` with a fixed identity, as a test's fixture repository needs. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
    },
  }).trim();
}

export function skillMd(name: string, description: string): string {
  return `---\nname: ${name}\ndescription: ${description}\n---\n\n# ${name}\n\n${description}\n`;
}

async function writeSkill(root: string, name: string, description: string): Promise<void> {
  const dir = join(root, 'skills', name);
  await mkdir(join(dir, 'scripts'), { recursive: true });
  await writeFile(join(dir, 'SKILL.md'), skillMd(name, description));
  await writeFile(join(dir, 'scripts', 'run.sh'), `#!/bin/sh\necho ${name}\n`);
  await chmod(join(dir, 'scripts', 'run.sh'), 0o755);
}

/** A skills repository with history: what each ref points at, and a copy of `skills/` as it was at v1. */
export interface SkillsRepo {
  /** The working repository (default branch main). */
  dir: string;
  url: string;
  /** Commits: v1 (annotated tag; also the lightweight tag `first`), main (one commit later), dev (a branch off v1). */
  commits: { v1: string; main: string; dev: string };
  /** `skills/` as committed at v1, mode bits kept. */
  skillsAtV1: string;
}

/**
 * v1: skills/pdf and skills/csv (each SKILL.md + an executable script), docs/README.md (no skill), an invalid
 * skill under broken/; tag v1 (annotated) and `first`. main: pdf's description changed. dev: a branch off v1
 * adding skills/lint.
 */
export async function makeSkillsRepo(): Promise<SkillsRepo> {
  const base = await tempDir('skills-repo');
  const dir = join(base, 'skills-repo');
  await mkdir(dir);
  git(dir, 'init', '--quiet', '--initial-branch=main');
  await writeSkill(dir, 'pdf', 'Fill and read PDF forms.');
  await writeSkill(dir, 'csv', 'Clean CSV files.');
  await mkdir(join(dir, 'docs'));
  await writeFile(join(dir, 'docs', 'README.md'), '# not a skill\n');
  await mkdir(join(dir, 'broken', 'bad'), { recursive: true });
  await writeFile(join(dir, 'broken', 'bad', 'SKILL.md'), '---\nname: Not Valid\ndescription: x\n---\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'v1');
  git(dir, 'tag', '-a', 'v1', '-m', 'release v1');
  git(dir, 'tag', 'first');
  const v1 = git(dir, 'rev-parse', 'HEAD');
  const skillsAtV1 = join(base, 'skills-at-v1');
  await cp(join(dir, 'skills'), skillsAtV1, { recursive: true, preserveTimestamps: true });

  git(dir, 'checkout', '--quiet', '-b', 'dev');
  await writeSkill(dir, 'lint', 'Lint the code.');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'dev: lint');
  const dev = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '--quiet', 'main');
  await rm(join(dir, 'skills', 'lint'), { recursive: true, force: true });

  await writeFile(join(dir, 'skills', 'pdf', 'SKILL.md'), skillMd('pdf', 'Fill, read and merge PDF forms.'));
  git(dir, 'commit', '--quiet', '-am', 'main: pdf v2');
  const main = git(dir, 'rev-parse', 'HEAD');
  return { dir, url: `file://${dir}`, commits: { v1, main, dev }, skillsAtV1 };
}
