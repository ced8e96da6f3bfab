import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type TrainAndBenchmarkFlags, trainAndBenchmarkCommand } from '../../src/cli/train-and-benchmark.js';
import { EXIT_CODES, InfraError, UsageError } from '../../src/errors.js';
import { freePort } from '../../src/sweeps/processes.js';
import { SWEEP_SUMMARY_FILE, type SweepSummary, sweepSummarySchema } from '../../src/sweeps/schema.js';
import { groupAlive, signalGroup } from '../../src/util/process-group.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/trials.js';

const SWEEP_FIXTURES = resolve(import.meta.dirname, '../fixtures/sweeps');
const ARITH = join(SWEEP_FIXTURES, 'arith-qa');
/** The other engineer's fixture target: a command-driver code benchmark the fixture model cannot solve. */
const CODE_BENCH = resolve(import.meta.dirname, '../fixtures/targets/code-bench');
const TRAINER = join(SWEEP_FIXTURES, 'trainer.mjs');
const SERVE = join(SWEEP_FIXTURES, 'serve.mjs');

/** Process groups a test saw; killed at the end whatever happened. */
const groups = new Set<number>();
afterAll(() => {
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
});

interface Sandbox {
  dir: string;
  outRoot: string;
  targetsFile: string;
  runsLog: string;
  cacheDir: string;
}

async function sandbox(targets: string[]): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'skill-eval-sweep-'));
  const targetsFile = join(dir, 'benchmarks.txt');
  await writeFile(targetsFile, `# the benchmarks, in the order they run\n${targets.join('\n')}\n`);
  return {
    dir,
    outRoot: join(dir, 'out'),
    targetsFile,
    runsLog: join(dir, 'trainings.jsonl'),
    cacheDir: join(dir, 'cache'),
  };
}

function cliArgs(box: Sandbox, options: { segments: number; serveExtra?: string; extra?: string[] }): string[] {
  return [
    'train-and-benchmark',
    '--base-model',
    'fixture/blank',
    '--targets-file',
    box.targetsFile,
    '--segments',
    String(options.segments),
    '--steps-per-segment',
    '2',
    '--trainer',
    `node ${TRAINER} --init {model} --out {out_dir} --steps {steps} --runs-log ${box.runsLog}`,
    '--serve',
    `node ${SERVE} --checkpoint {checkpoint} --port {port}${options.serveExtra ?? ''}`,
    '--out-root',
    box.outRoot,
    '--require-samples',
    '--cache-dir',
    box.cacheDir,
    ...(options.extra ?? []),
  ];
}

async function readSummary(outRoot: string): Promise<SweepSummary> {
  return sweepSummarySchema.parse(JSON.parse(await readFile(join(outRoot, SWEEP_SUMMARY_FILE), 'utf8')));
}

async function trainings(runsLog: string): Promise<string[]> {
  const text = await readFile(runsLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { out: string }).out);
}

/** Every segment × target in file order, each trained segment's server gone. */
function expectCompleteSweep(summary: SweepSummary, targets: string[], segments: number): void {
  expect(summary.complete).toBe(true);
  expect(summary.targets).toEqual(targets);
  expect(summary.segments.map((s) => s.segment)).toEqual(Array.from({ length: segments }, (_, i) => i + 1));
  for (const segment of summary.segments) {
    expect(segment.runs.map((r) => `${r.target} ${r.mode}`)).toEqual(targets.map((t) => `${t} smoke`));
    expect(segment.train).toMatchObject({ ok: true, steps: 2 });
    expect(segment.serve?.stopped_cleanly).toBe(true);
    groups.add(segment.serve!.pgid!);
    expect(groupAlive(segment.serve!.pgid!)).toBe(false);
  }
}

const arithScores = (summary: SweepSummary): (number | undefined)[] =>
  summary.segments.map((s) => s.runs.find((r) => r.target === ARITH)?.score);

describe('skill-eval train-and-benchmark (real CLI, fixture trainer and server)', () => {
  it('runs a 3-segment sweep over two targets in file order; the trained score rises and the loss falls', async () => {
    const box = await sandbox([ARITH, CODE_BENCH]);
    const run = await runCli(cliArgs(box, { segments: 3 }), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      timeoutMs: 120_000,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const summary = await readSummary(box.outRoot);
    expectCompleteSweep(summary, [ARITH, CODE_BENCH], 3);

    // 12 smoke questions over six made-up operator words; each segment learns two more words.
    expect(arithScores(summary)).toEqual([4 / 12, 8 / 12, 1]);
    expect(summary.segments.map((s) => s.runs[0]!.successes)).toEqual([4, 8, 12]);
    const losses = summary.segments.map((s) => s.train!.last_loss!);
    expect(losses[0]).toBeGreaterThan(losses[1]!);
    expect(losses[1]).toBeGreaterThan(losses[2]!);
    // The code benchmark ran every segment too, through its own scorer: the fixture model writes no code.
    expect(summary.segments.map((s) => s.runs[1]!.score)).toEqual([0, 0, 0]);
    expect(summary.segments.map((s) => s.runs[1]!.metrics!.primary_metric)).toEqual([
      'pass_at_1',
      'pass_at_1',
      'pass_at_1',
    ]);
    // Each segment trained from the one before; the served model was the new checkpoint.
    expect(summary.segments.map((s) => s.train!.from)).toEqual([
      'fixture/blank',
      join(box.outRoot, 'segment-1', 'checkpoint'),
      join(box.outRoot, 'segment-2', 'checkpoint'),
    ]);
    expect(summary.segments.map((s) => s.serve!.model_name)).toEqual(summary.segments.map((s) => s.checkpoint));
    // The integrity check with the empty canary ran once per target, on its first run.
    expect(summary.segments.map((s) => s.runs.map((r) => r.canary?.ok))).toEqual([
      [true, true],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    for (const n of [1, 2, 3])
      for (const file of ['train.log', 'serve.log'])
        expect(existsSync(join(box.outRoot, `segment-${n}`, file))).toBe(true);

    // The end-of-sweep table, and the same table from --report.
    const arithRow = run.stdout.split('\n').find((line) => line.startsWith(ARITH));
    expect(arithRow).toMatch(/\| smoke \| exact_match_number \|\s+0\.333 \|\s+0\.667 \|\s+1\.000$/);
    const report = await runCli(['train-and-benchmark', '--report', box.outRoot], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(report.exitCode).toBe(0);
    expect(report.stdout).toBe(run.stdout);
    // `analyze` of the out root shows the same table.
    const analyzed = await runCli(['analyze', box.outRoot], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(analyzed.exitCode).toBe(0);
    expect(analyzed.stdout.trim()).toBe(run.stdout.trim());
  }, 240_000);

  it('kill -9 during segment 2, run again: segment 1 is not redone, the orphaned server is stopped, the summary is complete', async () => {
    const box = await sandbox([ARITH, CODE_BENCH]);
    // Slow answers keep segment 2 busy long enough to be caught in the act.
    const args = cliArgs(box, { segments: 3, serveExtra: ' --latency-ms 150' });
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const servePidFile = join(box.outRoot, 'segment-2', 'serve.pid.json');
    const deadline = Date.now() + 90_000;
    while (!existsSync(servePidFile) && Date.now() < deadline) await delay(10);
    const serving = JSON.parse(await readFile(servePidFile, 'utf8')) as { pgid: number };
    groups.add(serving.pgid);
    child.kill('SIGKILL');
    expect(await exited).toBeNull();

    // What the kill left: segment 2 trained but not evaluated, its server orphaned.
    expect(groupAlive(serving.pgid)).toBe(true);
    const interrupted = await readSummary(box.outRoot);
    expect(interrupted.complete).toBe(false);
    expect(interrupted.segments.map((s) => s.segment)).toEqual([1, 2]);
    expect(interrupted.segments[0]!.runs).toHaveLength(2);
    expect(interrupted.segments[1]!.runs.length).toBeLessThan(2);
    const segment1TrainJson = join(box.outRoot, 'segment-1', 'checkpoint', 'train.json');
    const segment1Trained = (await stat(segment1TrainJson)).mtimeMs;
    const segment1Runs = interrupted.segments[0]!.runs;
    expect(await trainings(box.runsLog)).toEqual([
      join(box.outRoot, 'segment-1', 'checkpoint'),
      join(box.outRoot, 'segment-2', 'checkpoint'),
    ]);

    const rerun = await runCli(args, { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeoutMs: 120_000 });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`stopped the serve process group ${serving.pgid}`);
    expect(groupAlive(serving.pgid)).toBe(false);

    const summary = await readSummary(box.outRoot);
    expectCompleteSweep(summary, [ARITH, CODE_BENCH], 3);
    expect(arithScores(summary)).toEqual([4 / 12, 8 / 12, 1]);
    // Neither segment 1 nor (trained before the kill) segment 2 was trained again; segment 1 was not re-run.
    expect(await trainings(box.runsLog)).toEqual(
      ['segment-1', 'segment-2', 'segment-3'].map((s) => join(box.outRoot, s, 'checkpoint')),
    );
    expect((await stat(segment1TrainJson)).mtimeMs).toBe(segment1Trained);
    expect(summary.segments.map((s) => s.train!.resumed)).toEqual([true, true, false]);
    expect(summary.segments[0]!.runs).toEqual(segment1Runs);
    expect(existsSync(join(box.outRoot, '.train-and-benchmark.lock'))).toBe(false);
  }, 240_000);
});

/** The command in-process (faster than a child per case); progress collected, not printed. */
async function command(
  flags: TrainAndBenchmarkFlags,
): Promise<{ exitCode: number; summary: SweepSummary; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const outcome = await trainAndBenchmarkCommand(flags, REPO_ROOT, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { exitCode: outcome.exitCode, summary: outcome.summary, stdout, stderr };
}

function flagsFor(box: Sandbox, segments: number, extra: Partial<TrainAndBenchmarkFlags> = {}): TrainAndBenchmarkFlags {
  return {
    baseModel: 'fixture/blank',
    targetsFile: box.targetsFile,
    segments: String(segments),
    stepsPerSegment: '2',
    trainer: `node ${TRAINER} --init {model} --out {out_dir} --steps {steps} --runs-log ${box.runsLog} --fail-if ${join(box.dir, 'FAIL')}`,
    serve: `node ${SERVE} --checkpoint {checkpoint} --port {port}`,
    outRoot: box.outRoot,
    requireSamples: true,
    cacheDir: box.cacheDir,
    ...extra,
  };
}

describe('train-and-benchmark: baseline, failures, resume rules', () => {
  it('baseline first, full after the last segment, a failing target recorded while the sweep goes on; change vs baseline with its interval', async () => {
    const missing = join(tmpdir(), 'skill-eval-no-such-benchmark');
    const box = await sandbox([missing, ARITH]);
    const first = await command(flagsFor(box, 2, { baseline: true, fullAfterLast: true, smokeLimit: '6' }));
    expect(first.exitCode).toBe(EXIT_CODES.gateFailed);
    const summary = first.summary;
    expect(sweepSummarySchema.safeParse(summary).success).toBe(true);
    expect(summary.complete).toBe(true);

    const order = (runs: SweepSummary['segments'][number]['runs']) =>
      runs.map((r) => `${r.target === ARITH ? 'arith' : 'missing'} ${r.mode}`);
    expect(order(summary.baseline!.runs)).toEqual(['missing smoke', 'arith smoke', 'missing full', 'arith full']);
    expect(order(summary.segments[0]!.runs)).toEqual(['missing smoke', 'arith smoke']);
    expect(order(summary.segments[1]!.runs)).toEqual(['missing smoke', 'arith smoke', 'missing full', 'arith full']);
    for (const run of [...summary.baseline!.runs, ...summary.segments.flatMap((s) => s.runs)].filter(
      (r) => r.target === missing,
    )) {
      expect(run).toMatchObject({ ok: false, rollout_ok: false, evaluation_ok: false, failed_stage: 'resolve' });
      expect(run.error).toContain('no such directory');
    }
    // --smoke-limit 6: one question per word; the full runs ask all 24.
    const arith = (runs: SweepSummary['segments'][number]['runs'], mode: string) =>
      runs.find((r) => r.target === ARITH && r.mode === mode)!;
    expect(
      [arith(summary.baseline!.runs, 'smoke'), ...summary.segments.map((s) => arith(s.runs, 'smoke'))].map((r) => [
        r.successes,
        r.samples,
      ]),
    ).toEqual([
      [0, 6],
      [2, 6],
      [4, 6],
    ]);
    expect(
      [arith(summary.baseline!.runs, 'full'), arith(summary.segments[1]!.runs, 'full')].map((r) => [
        r.successes,
        r.samples,
      ]),
    ).toEqual([
      [0, 24],
      [16, 24],
    ]);

    expect(summary.changes.map((c) => [c.mode, c.segment, c.difference, c.method])).toEqual([
      ['smoke', 1, 2 / 6, 'newcombe-wilson'],
      ['smoke', 2, 4 / 6, 'newcombe-wilson'],
      ['full', 2, 16 / 24, 'newcombe-wilson'],
    ]);
    const full = summary.changes[2]!;
    expect(full.ci95!.low).toBeGreaterThan(0.3);
    expect(full.ci95!.high).toBeLessThan(0.85);
    expect(first.stdout).toMatch(
      /arith-qa\s+\| full\s+\| exact_match_number \|\s+0\.000 \|\s+· \|\s+0\.667 \| \+0\.667 \[\+0\.\d\d, \+0\.\d\d\] \(seg 2\)/,
    );

    // Again: every run is recorded, so nothing is trained, served or run.
    const again = await command(flagsFor(box, 2, { baseline: true, fullAfterLast: true, smokeLimit: '6' }));
    expect(await trainings(box.runsLog)).toHaveLength(2);
    expect(again.stderr).not.toContain('serving');
    expect(again.summary.segments.map((s) => s.runs)).toEqual(summary.segments.map((s) => s.runs));

    // --retry-failed re-runs only the failed runs.
    const retried = await command(
      flagsFor(box, 2, { baseline: true, fullAfterLast: true, smokeLimit: '6', retryFailed: true }),
    );
    const startedAt = (s: SweepSummary, target: string) =>
      s.segments[1]!.runs.filter((r) => r.target === target).map((r) => r.started_at);
    expect(startedAt(retried.summary, ARITH)).toEqual(startedAt(summary, ARITH));
    expect(startedAt(retried.summary, missing)).not.toEqual(startedAt(summary, missing));
    expect(await trainings(box.runsLog)).toHaveLength(2);
  }, 120_000);

  it('a failing trainer stops the sweep with its error recorded; fixed, the same command resumes', async () => {
    const box = await sandbox([ARITH]);
    await command(flagsFor(box, 1));
    await writeFile(join(box.dir, 'FAIL'), '');
    const failure = await command(flagsFor(box, 3)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InfraError);
    expect((failure as InfraError).message).toBe('segment 2: the trainer exited with 1');
    const recorded = await readSummary(box.outRoot);
    expect(recorded.complete).toBe(false);
    expect(recorded.segments[1]!.train).toMatchObject({ ok: false, exit_code: 1, error: 'the trainer exited with 1' });
    expect(await readFile(recorded.segments[1]!.train!.log, 'utf8')).toContain('trainer: failing because');

    await rm(join(box.dir, 'FAIL'));
    const resumed = await command(flagsFor(box, 3));
    expect(resumed.exitCode).toBe(0);
    expect(arithScores(resumed.summary)).toEqual([4 / 12, 8 / 12, 1]);
    expect(await trainings(box.runsLog)).toHaveLength(3);
  }, 120_000);

  it('uses an endpoint it did not start with --base-url', async () => {
    const box = await sandbox([ARITH]);
    const port = await freePort();
    const server = spawn(process.execPath, [SERVE, '--checkpoint', 'fixture/blank', '--port', String(port)], {
      stdio: 'ignore',
    });
    try {
      const { summary, exitCode } = await command(
        flagsFor(box, 1, { serve: undefined, baseUrl: `http://127.0.0.1:${port}/v1`, modelName: 'ckpt-{segment}' }),
      );
      expect(exitCode).toBe(0);
      expect(summary.segments[0]!.serve).toEqual({
        base_url: `http://127.0.0.1:${port}/v1`,
        model_name: 'ckpt-1',
        ready_ms: expect.any(Number),
      });
      // The fixed server still serves the blank model: training shows only where skill-eval serves the checkpoint.
      expect(summary.segments[0]!.runs[0]).toMatchObject({ ok: true, score: 0 });
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('checks its flags before anything runs, and refuses to resume a different sweep', async () => {
    const box = await sandbox([ARITH]);
    await expect(command({ report: undefined })).rejects.toThrow(
      /--base-model is required\n--targets-file is required/,
    );
    await expect(command(flagsFor(box, 1, { trainer: 'train --out {outdir}' }))).rejects.toThrow(
      /--trainer: unknown placeholder \{outdir\}/,
    );
    await expect(command(flagsFor(box, 1, { baseUrl: 'http://127.0.0.1:1/v1' }))).rejects.toThrow(
      /exactly one of --serve/,
    );
    await expect(command(flagsFor(box, 1, { serve: 'serve {checkpoint}' }))).rejects.toThrow(/must use \{port\}/);
    await expect(command(flagsFor(box, 1, { segments: 'three' }))).rejects.toThrow(
      /--segments: expected a whole number, found "three"/,
    );
    await expect(command(flagsFor(box, 1, { modelName: 'empty' }))).rejects.toThrow(/canary/);
    expect(existsSync(box.outRoot)).toBe(false);
    await command(flagsFor(box, 1));
    const different = await command(flagsFor(box, 1, { stepsPerSegment: '3' })).catch((error: unknown) => error);
    expect(different).toBeInstanceOf(UsageError);
    expect((different as UsageError).message).toMatch(/records a different sweep: --steps-per-segment: 2 then, 3 now/);
    await expect(command({ report: box.dir })).rejects.toThrow(/no such file/);
  });
});
