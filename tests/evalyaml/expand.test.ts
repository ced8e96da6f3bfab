import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/environments/local.js';
import { UsageError } from '../../src/errors.js';
import { type EvalNotice, loadEvalTasks } from '../../src/jobs/eval-tasks.js';
import { expandTaskSpecs } from '../../src/task/resolve.js';
import { tempDir, writeTree } from '../task/helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const EVAL_YAML = `tasks:
  - name: good
    instruction: hi
    graders: [{type: deterministic, run: "echo '{\\"score\\": 1}'"}]
  - name: broken
    instruction: hi
    graders: [{type: deterministic, run: x, weight: -1}]
`;

async function skill(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  await writeTree(dir.path, {
    'my-skill/SKILL.md': '---\nname: my-skill\ndescription: Demo.\n---\nUse it.\n',
    'my-skill/eval.yaml': EVAL_YAML,
  });
  return dir.path;
}

describe('eval.yaml as a task spec', () => {
  it('is a usage error naming `tasks convert` where nothing converts it (tasks validate)', async () => {
    const root = await skill();
    const error = await expandTaskSpecs(['my-skill/eval.yaml'], { cwd: root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('my-skill/eval.yaml is a skillgrade eval.yaml, not a task directory');
    await expect(expandTaskSpecs(['my-skill'], { cwd: root })).rejects.toBeInstanceOf(UsageError);
  });

  it('converts into <results-dir>/.converted when planning a job; a broken eval is reported and left out', async () => {
    const root = await skill();
    const notices: EvalNotice[] = [];
    const results = join(root, 'my-skill', 'results');
    const { tasks, brokenTasks } = await loadEvalTasks(['my-skill'], {
      cwd: root,
      resultsDir: results,
      provider: createLocalProvider(),
      arms: ['with-skills'],
      notify: (notice) => notices.push(notice),
    });
    expect(tasks.map((t) => t.name)).toEqual(['good']);
    expect(tasks[0]?.dir.startsWith(join(results, '.converted'))).toBe(true);
    expect(tasks[0]?.skills.map((s) => s.name)).toEqual(['my-skill']);
    expect(brokenTasks).toEqual([
      {
        dir: `${join(root, 'my-skill', 'eval.yaml')}#tasks[1] (broken)`,
        problems: [expect.objectContaining({ key: 'tasks[1].graders[0].weight', severity: 'error' })],
      },
    ]);
    expect(notices.filter((n) => n.level === 'error').map((n) => n.message)).toEqual([
      'my-skill/eval.yaml: tasks[1].graders[0].weight: invalid value; expected a number greater than 0; found -1 (number)',
    ]);
    // The results directory inside the skill folder is never copied with the skill.
    const again = await loadEvalTasks(['my-skill/eval.yaml'], {
      cwd: root,
      resultsDir: results,
      provider: createLocalProvider(),
      arms: ['with-skills'],
      notify: () => undefined,
    });
    expect(again.tasks.map((t) => [t.dir, t.checksum])).toEqual(tasks.map((t) => [t.dir, t.checksum]));
  });
});
