import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/trials.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/api/evaluate.ts');

describe('docs/api.md example (examples/api/evaluate.ts)', () => {
  it('is the file, word for word (only the package name maps to src/)', async () => {
    const docs = await readFile(join(ROOT, 'docs/api.md'), 'utf8');
    const match = /<!-- api-example[^>]*-->\n```ts\n([\s\S]*?)```/.exec(docs);
    expect(match, 'the marked ts block in docs/api.md').not.toBeNull();
    const file = await readFile(EXAMPLE, 'utf8');
    expect(match![1]!.replace("from 'skill-eval'", "from '../../src/index.js'")).toBe(file);
  });

  it('runs as written: loads the task, runs 2 oracle trials locally, reads and analyzes the results', async () => {
    // A scratch project holding the task the example names, so its results land there.
    const cwd = await tempDir('api-example');
    await mkdir(join(cwd, 'tasks'));
    await cp(join(ROOT, 'tasks/superlint_demo'), join(cwd, 'tasks/superlint_demo'), { recursive: true });
    const run = await execa(
      process.execPath,
      ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, EXAMPLE],
      { cwd, reject: false, env: { HOME: cwd }, timeout: 120_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const docs = await readFile(join(ROOT, 'docs/api.md'), 'utf8');
    const printed = /It prints:\n\n```\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(`${run.stdout}\n`).toBe(printed);
    // One job, written where the example said, with both trial directories.
    const jobs = await readdir(join(cwd, 'results/jobs'));
    expect(jobs).toHaveLength(1);
    for (const trial of ['superlint_demo__oracle__with-skills__1', 'superlint_demo__oracle__with-skills__2'])
      expect(existsSync(join(cwd, 'results/jobs', jobs[0]!, trial, 'result.json')), trial).toBe(true);
  });
});
