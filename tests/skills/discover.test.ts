import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverSkills } from '../../src/skills/discover.js';
import { loadTask } from '../../src/task/load.js';
import { HEALTHY_TASK, type TreeEntry, tempDir, writeTree } from '../task/helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function taskWith(files: Record<string, TreeEntry>): Promise<string> {
  const tmp = await tempDir();
  cleanups.push(tmp.cleanup);
  const dir = join(tmp.path, 'demo');
  await writeTree(dir, { ...HEALTHY_TASK, ...files });
  return dir;
}

const skill = (name: string, description = `Does ${name} things.`): string =>
  `---\nname: ${name}\ndescription: ${description}\n---\n\n# ${name}\n`;

describe('discoverSkills', () => {
  it('finds skills in both layouts, in name order, with size and hash', async () => {
    const dir = await taskWith({
      'skills/zeta-tool/SKILL.md': skill('zeta-tool'),
      'skills/zeta-tool/scripts/run.sh': 'echo run\n',
      'environment/skills/alpha-tool/SKILL.md': skill('alpha-tool'),
    });
    const { skills, problems } = await discoverSkills(dir);
    expect(problems).toEqual([]);
    expect(skills.map((s) => [s.name, s.layout])).toEqual([
      ['alpha-tool', 'skillsbench'],
      ['zeta-tool', 'skill-eval'],
    ]);
    const zeta = skills[1];
    expect(zeta?.dir).toBe(join(dir, 'skills', 'zeta-tool'));
    expect(zeta?.fileCount).toBe(2);
    expect(zeta?.bytes).toBe(Buffer.byteLength(skill('zeta-tool')) + Buffer.byteLength('echo run\n'));
    expect(zeta?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(zeta?.description).toBe('Does zeta-tool things.');
  });

  it('gives the same hash to identical skill folders and a different one when content changes', async () => {
    const a = await taskWith({ 'skills/same/SKILL.md': skill('same') });
    const b = await taskWith({ 'skills/same/SKILL.md': skill('same') });
    const c = await taskWith({ 'skills/same/SKILL.md': skill('same', 'Something else.') });
    const [hashA, hashB, hashC] = await Promise.all(
      [a, b, c].map(async (dir) => (await discoverSkills(dir)).skills[0]?.sha256),
    );
    expect(hashA).toBe(hashB);
    expect(hashA).not.toBe(hashC);
    expect(hashA).not.toBe(createHash('sha256').update(skill('same')).digest('hex'));
  });

  it("records each skill's source in its task, and counts a script's execute bit in the hash", async () => {
    const plain = await taskWith({
      'skills/tool/SKILL.md': skill('tool'),
      'skills/tool/run.sh': 'echo run\n',
      'environment/skills/other/SKILL.md': skill('other'),
    });
    const executable = await taskWith({
      'skills/tool/SKILL.md': skill('tool'),
      'skills/tool/run.sh': { content: 'echo run\n', mode: 0o755 },
    });
    const found = (await discoverSkills(plain)).skills;
    expect(found.map((s) => s.source)).toEqual([
      { kind: 'task', path: 'environment/skills/other' },
      { kind: 'task', path: 'skills/tool' },
    ]);
    expect((await discoverSkills(executable)).skills[0]?.sha256).not.toBe(found[1]?.sha256);
  });

  it('reports duplicate names across layouts as an error and keeps the first', async () => {
    const dir = await taskWith({
      'skills/shared/SKILL.md': skill('shared'),
      'environment/skills/shared/SKILL.md': skill('shared'),
    });
    const { skills, problems } = await discoverSkills(dir, { cwd: dir });
    expect(skills.map((s) => s.layout)).toEqual(['skill-eval']);
    expect(problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        key: 'name',
        file: 'environment/skills/shared/SKILL.md',
        message: expect.stringContaining('skills/shared/SKILL.md'),
      }),
    ]);
  });

  it('reports duplicate frontmatter names in different folders', async () => {
    const dir = await taskWith({
      'skills/one/SKILL.md': skill('same-name'),
      'skills/two/SKILL.md': skill('same-name'),
    });
    const { problems } = await discoverSkills(dir);
    expect(problems.filter((p) => p.severity === 'error')).toHaveLength(1);
  });

  it('warns about a folder without SKILL.md and a loose SKILL.md, and skips skills with errors', async () => {
    const dir = await taskWith({
      'skills/notes/README.md': 'not a skill',
      'skills/SKILL.md': skill('loose'),
      'skills/Bad_Name/SKILL.md': skill('Bad_Name'),
      'skills/good/SKILL.md': skill('good'),
    });
    const { skills, problems } = await discoverSkills(dir, { cwd: dir });
    expect(skills.map((s) => s.name)).toEqual(['good']);
    expect(
      problems
        .filter((p) => p.severity === 'warning')
        .map((p) => p.file)
        .sort(),
    ).toEqual(['skills/SKILL.md', 'skills/notes']);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([
      expect.objectContaining({ file: 'skills/Bad_Name/SKILL.md', key: 'name' }),
    ]);
  });

  it('returns nothing for a task without skills', async () => {
    const dir = await taskWith({});
    expect(await discoverSkills(dir)).toEqual({ skills: [], problems: [] });
  });

  it('keeps warnings on the skill (no frontmatter) and the skill still loads', async () => {
    const dir = await taskWith({ 'skills/plain/SKILL.md': '# Plain\n\nDoes plain things.\n' });
    const { skills, problems } = await discoverSkills(dir);
    expect(skills[0]).toMatchObject({ name: 'plain', description: 'Does plain things.' });
    expect(skills[0]?.warnings).toHaveLength(1);
    expect(problems).toEqual(skills[0]?.warnings);
  });
});

describe('loadTask with skills', () => {
  it('puts skills into task.skills and their warnings into task.warnings', async () => {
    const dir = await taskWith({ 'skills/plain/SKILL.md': 'Plain skill.\n', 'skills/good/SKILL.md': skill('good') });
    const result = await loadTask(dir, { cwd: dir });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.task.skills.map((s) => s.name)).toEqual(['good', 'plain']);
    expect(result.task.warnings).toEqual([
      expect.objectContaining({ file: 'skills/plain/SKILL.md', severity: 'warning' }),
    ]);
  });

  it('fails the task when a skill has an error', async () => {
    const dir = await taskWith({ 'skills/broken/SKILL.md': '---\nname: broken\ndescription: [oops\n---\n' });
    const result = await loadTask(dir, { cwd: dir });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({
        file: 'skills/broken/SKILL.md',
        severity: 'error',
        message: expect.stringContaining('invalid YAML'),
      }),
    ]);
  });
});
