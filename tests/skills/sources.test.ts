import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveFlagSkills, withFlagSkills } from '../../src/skills/sources.js';
import { tempDir } from '../helpers/trials.js';
import { makeSkillsRepo, type SkillsRepo, skillMd } from './git-repo.js';

let repo: SkillsRepo;
let cwd: string;

beforeAll(async () => {
  repo = await makeSkillsRepo();
  cwd = await tempDir('skill-sources');
});

async function cacheEnv(): Promise<NodeJS.ProcessEnv> {
  return { XDG_CACHE_HOME: await tempDir('xdg-cache') };
}

async function usage(values: string[]): Promise<string> {
  const error = await resolveFlagSkills(values, { cwd, env: await cacheEnv() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

describe('resolveFlagSkills', () => {
  it('reads a skill folder and a folder of skill folders from disk, with their digests', async () => {
    const { skills, specs } = await resolveFlagSkills([repo.skillsAtV1, join(repo.skillsAtV1, 'pdf')], {
      cwd,
      env: await cacheEnv(),
    });
    expect(specs).toEqual([repo.skillsAtV1, join(repo.skillsAtV1, 'pdf')]);
    expect(skills.map((s) => [s.skill.name, s.skill.layout, s.skill.source])).toEqual([
      ['csv', 'flag', { kind: 'path', path: join(repo.skillsAtV1, 'csv') }],
      ['pdf', 'flag', { kind: 'path', path: join(repo.skillsAtV1, 'pdf') }],
    ]);
    expect(skills[1]?.skill.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fetches git skills into $XDG_CACHE_HOME/skill-eval/skills/<commit>: same files, same sha256 as on disk', async () => {
    const env = await cacheEnv();
    const local = await resolveFlagSkills([repo.skillsAtV1], { cwd, env });
    const fetched = await resolveFlagSkills([`${repo.url}#v1:skills`], { cwd, env });
    const { v1 } = repo.commits;
    expect(fetched.skills.map((s) => [s.skill.name, s.commit, s.skill.dir])).toEqual([
      ['csv', v1, join(env.XDG_CACHE_HOME!, 'skill-eval', 'skills', v1, 'skills', 'csv')],
      ['pdf', v1, join(env.XDG_CACHE_HOME!, 'skill-eval', 'skills', v1, 'skills', 'pdf')],
    ]);
    expect(fetched.skills[1]?.skill.source).toEqual({
      kind: 'git',
      url: repo.url,
      ref: 'v1',
      subdir: 'skills',
      commit: v1,
      path: 'skills/pdf',
    });
    expect(fetched.skills.map((s) => s.skill.sha256)).toEqual(local.skills.map((s) => s.skill.sha256));
    expect(fetched.notices).toContainEqual({
      level: 'note',
      message: `--skill ${repo.url}#v1:skills: csv, pdf at commit ${v1.slice(0, 12)} (fetched)`,
    });
    const again = await resolveFlagSkills([`${repo.url}#v1:skills`], { cwd, env });
    expect(again.notices.at(-1)?.message).toMatch(/\(cached\)$/);
    // main changed pdf's SKILL.md: another commit, another digest.
    const main = await resolveFlagSkills([`${repo.url}#main:skills/pdf`], { cwd, env });
    expect(main.skills[0]?.skill.source).toMatchObject({ commit: repo.commits.main, path: 'skills/pdf' });
    expect(main.skills[0]?.skill.sha256).not.toBe(local.skills[1]?.skill.sha256);
  });

  it('keeps the last skill of a name and says which one it replaced', async () => {
    const resolved = await resolveFlagSkills([`${repo.url}#v1:skills`, `${repo.url}#main:skills/pdf`], {
      cwd,
      env: await cacheEnv(),
    });
    expect(resolved.skills.map((s) => [s.skill.name, s.commit])).toEqual([
      ['csv', repo.commits.v1],
      ['pdf', repo.commits.main],
    ]);
    expect(resolved.notices.map((n) => n.message)).toContainEqual(
      `--skill ${repo.url}#main:skills/pdf: skill pdf replaces the one from --skill ${repo.url}#v1:skills (the last one wins)`,
    );
  });

  it('is one clear UsageError for a missing subdir, a folder without SKILL.md, an invalid skill or a missing folder', async () => {
    expect(await usage([`${repo.url}#v1:nope`])).toBe(
      `--skill ${repo.url}#v1:nope: no folder "nope" in ${repo.url} at commit ${repo.commits.v1.slice(0, 12)}; expected a folder of the repository after ":"; found top-level entries broken, docs, skills`,
    );
    expect(await usage([`${repo.url}#v1:docs`])).toMatch(
      /^--skill .+#v1:docs: no SKILL\.md in docs of file:\/\/.+ at commit [0-9a-f]{12} nor in its sub-folders; expected a skill folder \(holding SKILL\.md\) or a folder of skill folders; found README\.md$/,
    );
    expect(await usage([`${repo.url}#v1:broken`])).toMatch(
      /^--skill .+#v1:broken: not a valid skill:\n {2}.+name: invalid skill name/,
    );
    expect(await usage(['./nowhere'])).toMatch(
      /^--skill \.\/nowhere: no such folder \(.+nowhere\); expected a skill folder/,
    );
    const file = join(cwd, 'plain.txt');
    await writeFile(file, 'x');
    expect(await usage([file])).toMatch(/a file, not a folder/);
  });

  it('counts the execute bit in the digest', async () => {
    const dir = join(cwd, 'modes', 'tool');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'SKILL.md'), skillMd('tool', 'A tool.'));
    await writeFile(join(dir, 'run.sh'), 'echo hi\n');
    const env = await cacheEnv();
    const before = (await resolveFlagSkills([dir], { cwd, env })).skills[0]?.skill.sha256;
    await chmod(join(dir, 'run.sh'), 0o755);
    const after = (await resolveFlagSkills([dir], { cwd, env })).skills[0]?.skill.sha256;
    expect(after).not.toBe(before);
  });
});

describe('withFlagSkills', () => {
  it("adds the --skill skills and replaces a task's skill of the same name", async () => {
    const env = await cacheEnv();
    const own = (await resolveFlagSkills([`${repo.url}#v1:skills`], { cwd, env })).skills.map((s) => s.skill);
    const added = (
      await resolveFlagSkills([`${repo.url}#dev:skills/lint`, `${repo.url}#main:skills/pdf`], { cwd, env })
    ).skills.map((s) => s.skill);
    const merged = withFlagSkills(own, added);
    expect(merged.map((s) => [s.name, s.source.kind === 'git' ? s.source.commit : undefined])).toEqual([
      ['csv', repo.commits.v1],
      ['lint', repo.commits.dev],
      ['pdf', repo.commits.main],
    ]);
  });
});
