import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../bench/analyze/generate.js';
import { type ReadOptions, type ReadSummary, readResults, type TrialRecord } from '../../src/results/read.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(import.meta.dirname, '../fixtures/results');
const GENERATED = 2000;
/** Every batch to a worker: none read on the main thread while the workers start. */
const WORKERS_ONLY: ReadOptions = { workers: 2, startWorkersAfter: 0, waitForWorkers: true };

async function readAll(dirs: string[], options: ReadOptions) {
  const records: TrialRecord[] = [];
  const summary = await readResults(dirs, (record) => records.push(record), options);
  return { records, summary };
}

/** The summary without who read what (which differs between the two ways by design). */
function counts(summary: ReadSummary): Omit<ReadSummary, 'threads'> {
  const { threads: _threads, ...rest } = summary;
  return rest;
}

describe('readResults with worker threads', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skill-eval-read-workers-'));
    await generate(join(dir, 'generated'), GENERATED);
    // Beside the generated trials: the fixtures (a broken file, a legacy report, a job config, a report file) and a copy (duplicates).
    await cp(FIXTURES, join(dir, 'fixtures'), { recursive: true });
    await cp(
      join(FIXTURES, 'jobs/demo-job/data_cleanup__claude-code-claude-sonnet-4-5__no-skills__1'),
      join(dir, 'copy/trial'),
      { recursive: true },
    );
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the fixtures in workers exactly as on the main thread', async () => {
    const reference = await readAll([FIXTURES], { workers: 0 });
    const parallel = await readAll([FIXTURES], WORKERS_ONLY);
    expect(parallel.summary.threads).toMatchObject({ workers: 2, filesOnMainThread: 0 });
    expect(parallel.summary.threads!.filesByWorkers).toBeGreaterThanOrEqual(parallel.summary.filesRead);
    expect(reference.summary.threads).toEqual({
      workers: 0,
      filesByWorkers: 0,
      filesOnMainThread: reference.summary.threads!.filesOnMainThread,
    });
    expect(counts(parallel.summary)).toEqual(counts(reference.summary));
    expect(parallel.summary.trialResults).toBe(20);
    expect(parallel.summary.legacyTrials).toBe(3);
    expect(parallel.summary.problems).toEqual([
      {
        file: join(FIXTURES, 'jobs/demo-job/broken-trial/result.json'),
        reason: expect.stringMatching(/^not valid JSON/),
      },
    ]);
    // Same records in the same order: the report does not depend on the threads' timing.
    expect(parallel.records).toEqual(reference.records);
  });

  it(`reads ${GENERATED} generated results plus odd files in workers exactly as on the main thread`, async () => {
    const reference = await readAll([dir], { workers: 0 });
    expect(reference.summary.trialResults).toBe(GENERATED + 21);
    expect(reference.summary.duplicateTrials).toBe(1);
    expect(reference.records).toHaveLength(GENERATED + 20 + 3);
    // All in workers; and the first 512 files on the main thread (before the workers start), the rest in workers.
    for (const options of [WORKERS_ONLY, { ...WORKERS_ONLY, workers: 3, startWorkersAfter: 512 }]) {
      const parallel = await readAll([dir], options);
      expect(counts(parallel.summary)).toEqual(counts(reference.summary));
      expect(parallel.records).toEqual(reference.records);
      expect(parallel.summary.threads!.filesByWorkers).toBeGreaterThan(GENERATED / 2);
    }
  });

  it('rejects with what the callback throws, and calls it no more', async () => {
    let seen = 0;
    const reading = readResults(
      [dir],
      () => {
        if (++seen === 500) throw new Error('stop here');
      },
      WORKERS_ONLY,
    );
    await expect(reading).rejects.toThrow('stop here');
    expect(seen).toBe(500);
  });
});

/**
 * The compiled package runs read-worker.js with no tsx at all. Transpile the reader's modules (and only
 * those: the rest of src may be mid-change) to JavaScript, as tsc would, and read with plain node.
 */
describe('readResults from compiled JavaScript', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'skill-eval-read-compiled-'));
    const pending = ['src/results/read.ts', 'src/results/read-worker.ts'];
    const done = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (done.has(file)) continue;
      done.add(file);
      const source = await readFile(join(ROOT, file), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
        fileName: file,
      });
      const target = join(out, file.replace(/\.ts$/, '.js'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, outputText);
      // Follow the relative imports that survive compilation (static and dynamic).
      for (const match of outputText.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/g)) {
        pending.push(relative(ROOT, join(ROOT, dirname(file), `${match[1]!}.ts`)));
      }
    }
    await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    // Bare imports (zod) resolve from the checkout's node_modules.
    await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  });

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('starts read-worker.js in workers and reads the fixtures as the sources do', async () => {
    const script = join(out, 'read-fixtures.mjs');
    await writeFile(
      script,
      [
        `import { readResults } from './src/results/read.js';`,
        `const records = [];`,
        `const summary = await readResults([${JSON.stringify(FIXTURES)}], (record) => records.push(record), ${JSON.stringify(WORKERS_ONLY)});`,
        `console.log(JSON.stringify({ summary, records }));`,
      ].join('\n'),
    );
    // Plain node: no tsx loader anywhere in the process.
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: out,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const compiled = JSON.parse(stdout) as { summary: ReadSummary; records: TrialRecord[] };
    const reference = await readAll([FIXTURES], { workers: 0 });
    expect(compiled.summary.threads).toMatchObject({ workers: 2, filesOnMainThread: 0 });
    expect(counts(compiled.summary)).toEqual(counts(reference.summary));
    // JSON drops undefined fields: compare as JSON.
    expect(compiled.records).toEqual(JSON.parse(JSON.stringify(reference.records)));
  });
});
