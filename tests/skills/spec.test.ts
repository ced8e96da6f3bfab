import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { formatSkillSpec, parseSkillSpec, skillSpecSecrets } from '../../src/skills/spec.js';
import { tempDir } from '../helpers/trials.js';

let cwd: string;

beforeAll(async () => {
  cwd = await tempDir('skill-spec');
  await mkdir(join(cwd, 'my-skills', 'pdf'), { recursive: true });
  // A local folder shaped like ORG/NAME: the folder wins over GitHub.
  await mkdir(join(cwd, 'acme', 'tools'), { recursive: true });
});

function usageMessage(value: string): string {
  try {
    parseSkillSpec(value, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as UsageError).message;
  }
  throw new Error(`${value} parsed without an error`);
}

describe('parseSkillSpec', () => {
  it('reads local folders: relative, absolute, ~ and an existing ORG/NAME-shaped folder', () => {
    expect(parseSkillSpec('my-skills/pdf', cwd)).toEqual({
      kind: 'path',
      spec: 'my-skills/pdf',
      path: join(cwd, 'my-skills', 'pdf'),
    });
    expect(parseSkillSpec('./missing', cwd)).toMatchObject({ kind: 'path', path: join(cwd, 'missing') });
    expect(parseSkillSpec('/opt/skills', cwd)).toMatchObject({ kind: 'path', path: '/opt/skills' });
    expect(parseSkillSpec('~/skills', cwd)).toMatchObject({ kind: 'path', path: join(homedir(), 'skills') });
    expect(parseSkillSpec('acme/tools', cwd)).toMatchObject({ kind: 'path', path: join(cwd, 'acme', 'tools') });
  });

  it('maps ORG/NAME[@REF][:SUBDIR] to GitHub', () => {
    expect(parseSkillSpec('anthropics/skills', cwd)).toEqual({
      kind: 'git',
      spec: 'anthropics/skills',
      url: 'https://github.com/anthropics/skills',
      ref: undefined,
      subdir: undefined,
    });
    expect(parseSkillSpec('anthropics/skills@v1.2', cwd)).toMatchObject({
      url: 'https://github.com/anthropics/skills',
      ref: 'v1.2',
    });
    expect(parseSkillSpec('anthropics/skills@main:skills/pdf', cwd)).toMatchObject({
      ref: 'main',
      subdir: 'skills/pdf',
    });
    expect(parseSkillSpec('anthropics/skills:skills', cwd)).toMatchObject({ ref: undefined, subdir: 'skills' });
    expect(parseSkillSpec('org/repo.git@dev', cwd)).toMatchObject({ url: 'https://github.com/org/repo', ref: 'dev' });
  });

  it('splits https, ssh and scp-like URLs into url, #ref and :subdir', () => {
    expect(parseSkillSpec('https://example.com/org/repo.git#v2:skills/pdf', cwd)).toMatchObject({
      kind: 'git',
      url: 'https://example.com/org/repo.git',
      ref: 'v2',
      subdir: 'skills/pdf',
    });
    // A port is not a subdir; a colon in the path is.
    expect(parseSkillSpec('https://example.com:8443/org/repo:skills', cwd)).toMatchObject({
      url: 'https://example.com:8443/org/repo',
      ref: undefined,
      subdir: 'skills',
    });
    expect(parseSkillSpec('ssh://git@example.com/org/repo.git#main', cwd)).toMatchObject({
      url: 'ssh://git@example.com/org/repo.git',
      ref: 'main',
    });
    expect(parseSkillSpec('git@github.com:org/repo.git#a1b2c3d:skills', cwd)).toMatchObject({
      url: 'git@github.com:org/repo.git',
      ref: 'a1b2c3d',
      subdir: 'skills',
    });
    expect(parseSkillSpec('git@github.com:org/repo.git:skills', cwd)).toMatchObject({
      url: 'git@github.com:org/repo.git',
      subdir: 'skills',
    });
    expect(parseSkillSpec('https://example.com/org/repo#:skills/', cwd)).toMatchObject({
      ref: undefined,
      subdir: 'skills',
    });
  });

  it('reads file:// URLs, git+ prefixes and local paths ending in .git as git repositories', () => {
    expect(parseSkillSpec('file:///srv/repos/skills#v1:pdf', cwd)).toMatchObject({
      kind: 'git',
      url: 'file:///srv/repos/skills',
      ref: 'v1',
      subdir: 'pdf',
    });
    expect(parseSkillSpec('git+file:///srv/repos/skills#main', cwd)).toMatchObject({
      url: 'file:///srv/repos/skills',
      ref: 'main',
    });
    expect(parseSkillSpec('git+../repos/skills#main', cwd)).toMatchObject({
      url: join(cwd, '..', 'repos', 'skills'),
      ref: 'main',
    });
    expect(parseSkillSpec('./repos/skills.git#v1:pdf', cwd)).toMatchObject({
      kind: 'git',
      url: join(cwd, 'repos', 'skills.git'),
      ref: 'v1',
      subdir: 'pdf',
    });
    expect(parseSkillSpec('/srv/skills.git:pdf', cwd)).toMatchObject({ url: '/srv/skills.git', subdir: 'pdf' });
  });

  it('formats a canonical spec that parses back to the same source', () => {
    for (const value of [
      'anthropics/skills@main:skills/pdf',
      'https://example.com/org/repo.git#v2:skills',
      'https://example.com/org/repo:skills',
      'git@github.com:org/repo.git:skills',
      './repos/skills.git#v1',
      'my-skills/pdf',
    ]) {
      const spec = parseSkillSpec(value, cwd);
      const again = parseSkillSpec(formatSkillSpec(spec), '/elsewhere');
      expect({ ...again, spec: value }).toEqual(spec);
    }
  });

  it('keeps the credentials of an https URL for git only: never in what is recorded, and they are secrets', () => {
    const spec = parseSkillSpec('https://bot:s3cr3t-token@example.com/org/repo.git#v1:skills', cwd);
    expect(spec).toMatchObject({ url: 'https://bot:s3cr3t-token@example.com/org/repo.git', ref: 'v1' });
    expect(spec.spec).toBe('https://example.com/org/repo.git#v1:skills');
    expect(formatSkillSpec(spec)).toBe('https://example.com/org/repo.git#v1:skills');
    expect(usageMessage('https://bot:s3cr3t-token@example.com/repo.git#bad..ref')).not.toContain('s3cr3t');
    expect(
      skillSpecSecrets([
        'https://bot:s3cr3t-token@example.com/org/repo.git',
        'git+https://ghp_abc123@github.com/o/r',
        'ssh://git@example.com/o/r.git',
        'org/name',
      ]),
    ).toEqual(['s3cr3t-token', 's3cr3t-token', 'ghp_abc123', 'ghp_abc123']);
  });

  it('refuses malformed values with one UsageError naming the value and what was expected', () => {
    expect(usageMessage('')).toMatch(/--skill : empty value/);
    expect(usageMessage('--compare')).toMatch(/looks like a flag/);
    expect(usageMessage('https://example.com/repo.git#')).toMatch(/empty ref/);
    expect(usageMessage('https://example.com/repo.git#bad..ref')).toMatch(/invalid git ref "bad\.\.ref"/);
    expect(usageMessage('https://example.com/repo.git#-x')).toMatch(/invalid git ref "-x"/);
    expect(usageMessage('https://example.com/repo.git#v1:../etc')).toMatch(/invalid subdir "\.\.\/etc"/);
    expect(usageMessage('org/name@v1:a/../b')).toMatch(/invalid subdir/);
    expect(usageMessage('no-such-thing')).toMatch(
      /--skill no-such-thing: no such directory, and not a git URL or ORG\/NAME/,
    );
  });
});
