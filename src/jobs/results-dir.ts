import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

const EXPECTED = 'a writable directory, or a path where one can be created';

/** What is at `path`, in words, or undefined when nothing is (or a parent is not a directory). */
async function whatIsAt(path: string): Promise<{ directory: boolean; words: string } | undefined> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return { directory: true, words: 'a directory' };
    return { directory: false, words: info.isFile() ? 'a file' : 'something that is neither a file nor a directory' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') return { directory: false, words: 'a symbolic link loop' };
    return { directory: false, words: `something that cannot be read (${code ?? 'unknown error'})` };
  }
}

async function writable(directory: string): Promise<boolean> {
  try {
    await access(directory, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function refuse(path: string, found: string): never {
  throw new UsageError(`results dir ${path}: expected ${EXPECTED}; found ${found}`, {
    hint: 'pass another --results-dir, or move what is in the way',
  });
}

/**
 * Before any build or trial: the results dir (and its `jobs` folder) can hold a job's files. Otherwise one
 * UsageError naming the path, what was expected and what was found (not a stack trace after the first trial).
 */
export async function checkResultsDir(resultsDir: string): Promise<void> {
  const here = await whatIsAt(resultsDir);
  if (here) {
    if (!here.directory) refuse(resultsDir, here.words);
    if (!(await writable(resultsDir))) refuse(resultsDir, 'a directory this user cannot write to');
    const jobs = await whatIsAt(join(resultsDir, 'jobs'));
    if (jobs && !jobs.directory) refuse(resultsDir, `${jobs.words} at ${join(resultsDir, 'jobs')}`);
    return;
  }
  // Nothing there yet: the nearest existing ancestor must be a directory it can be created in.
  let ancestor = dirname(resultsDir);
  for (;;) {
    const found = await whatIsAt(ancestor);
    if (found && !found.directory) refuse(resultsDir, `${found.words} at ${ancestor}, where a directory must be`);
    if (found) {
      if (!(await writable(ancestor))) refuse(resultsDir, `no directory, and ${ancestor} cannot be written to`);
      return;
    }
    if (dirname(ancestor) === ancestor) return;
    ancestor = dirname(ancestor);
  }
}
