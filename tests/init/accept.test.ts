import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acceptDrafts } from '../../src/init/accept.js';
import { tempDir } from '../helpers/trials.js';

/** A drafted task: counts the lines of data.txt; `answer` is what its solution writes. */
async function draft(
  root: string,
  name: string,
  options: { answer?: string; instruction?: string; solution?: boolean } = {},
) {
  const files: Record<string, string> = {
    'task.toml': `schema_version = "1.1"\n[task]\nname = "${name}"\n`,
    'instruction.md': options.instruction ?? 'Write the number of lines of data.txt into count.txt.\n',
    'environment/Dockerfile': 'FROM skill-eval/base:bookworm\nWORKDIR /app\nCOPY app/ /app/\n',
    'environment/app/data.txt': 'a\nb\nc\n',
    'tests/test.sh':
      '#!/usr/bin/env bash\nmkdir -p /logs/verifier\necho 0 >/logs/verifier/reward.txt\n[[ $(cat count.txt 2>/dev/null) == 3 ]] && echo 1 >/logs/verifier/reward.txt\nexit 0\n',
  };
  if (options.solution !== false)
    files['solution/solve.sh'] = `#!/usr/bin/env bash\necho ${options.answer ?? '3'} >count.txt\n`;
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, name, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    if (path.endsWith('.sh')) await chmod(file, 0o755);
  }
}

describe('acceptDrafts: every drafted task checked at once, kept or rejected with the reason', () => {
  it('keeps the sound task; rejects, each with its check and reason in REJECTED.md, the others', async () => {
    const root = await tempDir('accept');
    const drafts = join(root, 'drafts');
    const evals = join(root, 'skill', 'evals');
    await draft(drafts, 'sound');
    await draft(drafts, 'wrong-answer', { answer: '4' });
    await draft(drafts, 'names-skill', {
      instruction: 'Use the line-counter skill to count data.txt into count.txt.\n',
    });
    await draft(drafts, 'no-solution', { solution: false });
    await draft(drafts, 'Bad_Name');
    await mkdir(join(drafts, 'no-toml'), { recursive: true });
    await writeFile(join(drafts, 'no-toml', 'instruction.md'), 'Do it.\n');

    const verdicts = await acceptDrafts({
      draftsDir: drafts,
      evalsDir: evals,
      skillName: 'line-counter',
      provider: 'local',
      resultsDir: join(root, 'results'),
      concurrency: 2,
      cwd: root,
    });
    const byName = Object.fromEntries(verdicts.map((v) => [v.name, v]));
    expect(verdicts.map((v) => v.name)).toEqual([
      'Bad_Name',
      'names-skill',
      'no-solution',
      'no-toml',
      'sound',
      'wrong-answer',
    ]);
    expect(byName.sound).toMatchObject({ kept: true, reasons: [], dir: join(evals, 'sound') });
    expect(byName['wrong-answer']?.reasons[0]).toBe(
      'tasks check: oracle did not pass every trial: the solution or the verifier is broken',
    );
    expect(byName['names-skill']?.reasons).toEqual([
      'instruction: instruction.md names the skill "line-counter": the evaluation measures whether the agent finds it by itself',
    ]);
    expect(byName['no-solution']?.reasons).toEqual(['solution: no solution/solve.sh']);
    expect(byName.Bad_Name?.reasons[0]).toMatch(/^name: "Bad_Name" is not a task name/);
    expect(byName['no-toml']?.reasons.join('\n')).toMatch(/tasks validate: .*missing task\.toml/);

    expect(await readdir(evals)).toEqual(['.rejected', 'sound']);
    expect((await readdir(join(evals, '.rejected'))).sort()).toEqual(
      ['Bad_Name', 'names-skill', 'no-solution', 'no-toml', 'wrong-answer'].sort(),
    );
    const why = await readFile(join(evals, '.rejected', 'wrong-answer', 'REJECTED.md'), 'utf8');
    expect(why).toMatch(/^# wrong-answer: rejected by skill-eval init/);
    expect(why).toMatch(/- tasks check: oracle did not pass every trial/);
    // The kept task is a copy of the draft, whole.
    expect(await readFile(join(evals, 'sound', 'environment', 'app', 'data.txt'), 'utf8')).toBe('a\nb\nc\n');
  });

  it('an empty drafts folder (or none) gives no verdicts and writes nothing', async () => {
    const root = await tempDir('accept-empty');
    const verdicts = await acceptDrafts({
      draftsDir: join(root, 'missing'),
      evalsDir: join(root, 'evals'),
      skillName: 's',
      provider: 'local',
      resultsDir: join(root, 'results'),
      concurrency: 1,
      cwd: root,
    });
    expect(verdicts).toEqual([]);
    await expect(readdir(join(root, 'evals'))).rejects.toThrow(/ENOENT/);
  });
});
