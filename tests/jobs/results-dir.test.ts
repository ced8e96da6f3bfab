import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { UsageError } from '../../src/errors.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { checkResultsDir } from '../../src/jobs/results-dir.js';
import { TSX_LOADER } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';
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

  // Root may write anywhere: as root, the check runs in a child process as nobody (uid 65534).
  it('refuses a directory this user cannot write to', async () => {
    const asRoot = process.getuid?.() === 0;
    // Nobody must reach the directory: the tests' own temp dir is private to root.
    const dir = asRoot ? await mkdtemp('/tmp/skill-eval-test-readonly-') : await tempDir('results-dir-readonly');
    await chmod(dir, 0o555);
    try {
      const message = asRoot ? refusalAsNobody(dir) : (await refusal(checkResultsDir(dir))).message;
      expect(message).toContain('found a directory this user cannot write to');
    } finally {
      await chmod(dir, 0o755);
      if (asRoot) await rm(dir, { recursive: true, force: true });
    }
  });
});

/** checkResultsDir's refusal message in a child process running as nobody. */
function refusalAsNobody(dir: string): string {
  const module = pathToFileURL(join(REPO_ROOT, 'src/jobs/results-dir.ts')).href;
  const script = `import { checkResultsDir } from ${JSON.stringify(module)};
    checkResultsDir(${JSON.stringify(dir)}).then(() => console.log('accepted'), (e) => console.log(e.constructor.name + ': ' + e.message));`;
  const child = spawnSync(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], {
    uid: 65534,
    gid: 65534,
    cwd: '/',
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: '/tmp' },
  });
  expect(child.status, child.stderr).toBe(0);
  expect(child.stdout).toMatch(/^UsageError: /);
  return child.stdout.trim();
}

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
