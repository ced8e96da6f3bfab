import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { UsageError } from '../../src/errors.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { checkResultsDir } from '../../src/jobs/results-dir.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES, trivialJobOptions } from './helpers.js';

async function refusal(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

const EXPECTED = 'expected a writable directory, or a path where one can be created';

describe('checkResultsDir', () => {
  it('accepts an existing directory and a path whose nearest existing parent is a directory', async () => {
    const dir = await tempDir('results-dir-ok');
    await expect(checkResultsDir(dir)).resolves.toBeUndefined();
    await expect(checkResultsDir(join(dir, 'new', 'deeper'))).resolves.toBeUndefined();
  });

  it('refuses a results dir that is a file, naming the path, what was expected and what was found', async () => {
    const dir = await tempDir('results-dir-file');
    const file = join(dir, 'results');
    await writeFile(file, 'not a directory');
    expect((await refusal(checkResultsDir(file))).message).toBe(`results dir ${file}: ${EXPECTED}; found a file`);
  });

  it('refuses a results dir under a file, and one whose jobs folder is a file', async () => {
    const dir = await tempDir('results-dir-parent');
    await writeFile(join(dir, 'file'), 'x');
    expect((await refusal(checkResultsDir(join(dir, 'file', 'results')))).message).toBe(
      `results dir ${join(dir, 'file', 'results')}: ${EXPECTED}; found a file at ${join(dir, 'file')}, where a directory must be`,
    );
    await mkdir(join(dir, 'results'));
    await writeFile(join(dir, 'results', 'jobs'), 'x');
    expect((await refusal(checkResultsDir(join(dir, 'results')))).message).toBe(
      `results dir ${join(dir, 'results')}: ${EXPECTED}; found a file at ${join(dir, 'results', 'jobs')}`,
    );
  });

  it('refuses a results dir that is a symbolic link loop', async () => {
    const dir = await tempDir('results-dir-loop');
    await symlink(join(dir, 'loop'), join(dir, 'loop'));
    expect((await refusal(checkResultsDir(join(dir, 'loop')))).message).toContain('found a symbolic link loop');
  });

  // Root may write anywhere: only a regular user can be refused for permissions.
  it.runIf(process.getuid?.() !== 0)('refuses a directory this user cannot write to', async () => {
    const dir = await tempDir('results-dir-readonly');
    await chmod(dir, 0o555);
    try {
      expect((await refusal(checkResultsDir(dir))).message).toContain('found a directory this user cannot write to');
    } finally {
      await chmod(dir, 0o755);
    }
  });
});

describe('planEval and the results dir', () => {
  it('refuses a results dir that is a file with one usage error, before any trial', async () => {
    const dir = await tempDir('results-dir-plan');
    const file = join(dir, 'results');
    await writeFile(file, 'x');
    const error = await refusal(planEval(trivialJobOptions(file), dir));
    expect(error.message).toBe(`results dir ${file}: ${EXPECTED}; found a file`);
  });
});

describe('eval --results-dir that is a file (real CLI, in-process)', () => {
  it('exits 2 with one line naming the path, what was expected and what was found; no stack trace', async () => {
    const dir = await tempDir('results-dir-cli');
    const file = join(dir, 'results');
    await writeFile(file, 'x');
    const printed: string[] = [];
    const capture = (...parts: unknown[]): void => void printed.push(parts.join(' '));
    const error = vi.spyOn(console, 'error').mockImplementation(capture);
    const log = vi.spyOn(console, 'log').mockImplementation(capture);
    let code: number;
    try {
      const task = join(JOB_FIXTURES, 'trivial');
      code = await main([
        'node',
        'skill-eval',
        'eval',
        task,
        '--agent',
        'oracle',
        '--provider',
        'local',
        '--results-dir',
        file,
      ]);
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
    expect(code).toBe(2);
    const output = printed.join('\n');
    expect(output).toContain(`results dir ${file}: ${EXPECTED}; found a file`);
    expect(output).not.toContain('internal error');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
