import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';
import { writeTree } from '../task/helpers.js';

const SUPERLINT = join(FIXTURES, 'evalyaml', 'superlint');
const GOLDEN = join(FIXTURES, 'evalyaml', 'superlint.expected', 'fix-linting-errors');

describe('skill-eval tasks convert', () => {
  it('writes the task directories, says so, and refuses to overwrite without --force', async () => {
    const out = await tempDir('convert');
    const first = await runCli(['tasks', 'convert', 'eval.yaml', '--out', out], { cwd: SUPERLINT });
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`wrote ${join(out, 'fix-linting-errors')}\n1 task written`);
    expect(first.exitCode).toBe(0);
    expect(await readFile(join(out, 'fix-linting-errors', 'task.toml'), 'utf8')).toBe(
      await readFile(join(GOLDEN, 'task.toml'), 'utf8'),
    );
    const again = await runCli(['tasks', 'convert', '.', '--out', out], { cwd: SUPERLINT });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`${join(out, 'fix-linting-errors')} already exists`);
    expect(again.stderr).toContain('--force');
    const forced = await runCli(['tasks', 'convert', '.', '--out', out, '--force'], { cwd: SUPERLINT });
    expect(forced.exitCode).toBe(0);
    const valid = await runCli(['tasks', 'validate', join(out, 'fix-linting-errors')]);
    expect(valid.exitCode).toBe(0);
  });

  it('writes the good evals of a file with a broken one, prints each problem and exits 2', async () => {
    const dir = await tempDir('convert-broken');
    await writeTree(dir, {
      'SKILL.md': '---\nname: demo\ndescription: Demo.\n---\n',
      'eval.yaml':
        'tasks:\n  - {name: good, instruction: hi, graders: [{type: deterministic, run: "true"}]}\n  - {name: bad, instruction: hi, graders: [{type: llm_rubric, rubric: r, weight: "0.3"}]}\n',
    });
    // The CLI runs from the repository (where tsx resolves): paths outside it are shown absolute.
    const run = await runCli(['tasks', 'convert', join(dir, 'eval.yaml'), '--out', join(dir, 'tasks')]);
    expect(run.stdout).toBe(`wrote ${join(dir, 'tasks', 'good')}\n1 task written`);
    expect(run.stderr).toBe(
      `error: ${join(dir, 'eval.yaml')}: tasks[1].graders[0].weight: invalid value; expected a number greater than 0; found "0.3" (string)`,
    );
    expect(run.exitCode).toBe(2);
  });
});
