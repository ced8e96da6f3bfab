import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generate } from '../../bench/analyze/generate.js';
import { LEGACY_AGENT, type ReadOptions, readResults, type TrialRecord } from '../../src/results/read.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/results');

async function readAll(dirs: string[], options?: ReadOptions) {
  const records: TrialRecord[] = [];
  const summary = await readResults(dirs, (record) => records.push(record), options);
  return { records, summary };
}

describe('readResults on the fixtures', () => {
  it('reads every trial result and the legacy report, and skips what is not a result', async () => {
    const { records, summary } = await readAll([FIXTURES]);
    expect(summary.trialResults).toBe(20);
    expect(summary.legacyReports).toBe(1);
    expect(summary.legacyTrials).toBe(3);
    expect(records).toHaveLength(23);
    expect(summary.skippedReportFiles).toBe(1);
    // job.json
    expect(summary.ignoredFiles).toBe(1);
    expect(summary.duplicateTrials).toBe(0);
    expect(summary.searched).toEqual([FIXTURES]);
  });

  it('reports the broken file with its reason and carries on', async () => {
    const { summary } = await readAll([FIXTURES]);
    expect(summary.problems).toEqual([
      {
        file: join(FIXTURES, 'jobs/demo-job/broken-trial/result.json'),
        reason: expect.stringMatching(/^not valid JSON/),
      },
    ]);
  });

  it('maps a trial result to a record with its provenance', async () => {
    const { records } = await readAll([FIXTURES]);
    const timeout = records.find(
      (record) => record.trialName === 'superlint_demo__claude-code-claude-sonnet-4-5__no-skills__4',
    )!;
    expect(timeout).toMatchObject({
      source: 'trial-result',
      task: 'superlint_demo',
      agent: 'claude-code',
      model: 'claude-sonnet-4-5',
      arm: 'no-skills',
      status: 'agent_timeout',
      reward: 0,
      errorMessage: expect.stringContaining('did not finish'),
    });
    expect(timeout.file).toBe(join(FIXTURES, 'jobs/demo-job', timeout.trialName, 'result.json'));
    expect(timeout.tokens).toBeGreaterThan(0);
  });

  it('maps the original EvalReport: skills_used → with-skills, agent unknown (legacy)', async () => {
    const { records } = await readAll([FIXTURES]);
    const legacy = records.filter((record) => record.source === 'legacy-report');
    expect(legacy.map((record) => record.reward)).toEqual([1, 0, 1]);
    expect(
      legacy.every(
        (record) => record.arm === 'with-skills' && record.agent === LEGACY_AGENT && record.model === undefined,
      ),
    ).toBe(true);
    expect(legacy[0]!.durationMs).toBe(61000);
    expect(legacy[0]!.tokens).toBe(1500);
  });

  it('reads a directory nested inside another root only once', async () => {
    const { records, summary } = await readAll([FIXTURES, join(FIXTURES, 'jobs')]);
    expect(records).toHaveLength(23);
    expect(summary.duplicateTrials).toBe(0);
  });

  it('reads a single file named as a root', async () => {
    const file = join(
      FIXTURES,
      'jobs/demo-job/superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1/result.json',
    );
    const { records } = await readAll([file]);
    expect(records.map((record) => record.trialName)).toEqual([
      'superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1',
    ]);
  });

  it('reports a missing directory as a problem instead of failing', async () => {
    const missing = join(FIXTURES, 'does-not-exist');
    const { records, summary } = await readAll([missing]);
    expect(records).toEqual([]);
    expect(summary.problems).toEqual([{ file: missing, reason: expect.stringContaining('cannot open') }]);
  });
});

describe('readResults on edge cases', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skill-eval-read-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('drops a copied trial (same trial_id) as a duplicate', async () => {
    const source = join(FIXTURES, 'jobs/demo-job/superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1');
    await cp(source, join(dir, 'a/trial'), { recursive: true });
    await cp(source, join(dir, 'b/trial'), { recursive: true });
    const { records, summary } = await readAll([dir]);
    expect(records).toHaveLength(1);
    expect(summary.duplicateTrials).toBe(1);
  });

  it('reports a result.json that breaks the schema, or is not ours, by file and reason', async () => {
    await mkdir(join(dir, 'bad-schema'));
    await writeFile(
      join(dir, 'bad-schema/result.json'),
      JSON.stringify({ schema: 'skill-eval/trial-result@1', task: 'x' }),
    );
    await mkdir(join(dir, 'future'));
    await writeFile(join(dir, 'future/result.json'), JSON.stringify({ schema: 'skill-eval/trial-result@2' }));
    await mkdir(join(dir, 'foreign'));
    await writeFile(join(dir, 'foreign/result.json'), JSON.stringify({ ok: true }));
    const { records, summary } = await readAll([dir]);
    expect(records).toEqual([]);
    expect(
      summary.problems.map((problem) => [problem.file.slice(dir.length + 1), problem.reason.split(':')[0]]),
    ).toEqual([
      ['bad-schema/result.json', 'invalid trial result'],
      ['foreign/result.json', 'no "schema"'],
      [
        'future/result.json',
        'unsupported schema skill-eval/trial-result@2 (this version reads skill-eval/trial-result@1)',
      ],
    ]);
  });

  it('does not descend into a trial directory, nor into hidden directories or node_modules', async () => {
    const source = join(FIXTURES, 'jobs/demo-job/data_cleanup__claude-code-claude-sonnet-4-5__no-skills__1');
    await cp(source, join(dir, 'trial'), { recursive: true });
    // A result inside a trial's artifacts is the agent's business, not a trial of ours.
    await cp(source, join(dir, 'trial/artifacts/nested'), { recursive: true });
    await cp(join(FIXTURES, 'legacy'), join(dir, '.cache'), { recursive: true });
    await cp(join(FIXTURES, 'legacy'), join(dir, 'node_modules'), { recursive: true });
    const { records, summary } = await readAll([dir]);
    expect(records).toHaveLength(1);
    expect(summary.filesRead).toBe(1);
  });

  it('does not follow symbolic links (no cycles)', async () => {
    const source = join(FIXTURES, 'jobs/demo-job/data_cleanup__claude-code-claude-sonnet-4-5__no-skills__1');
    await cp(source, join(dir, 'job/trial'), { recursive: true });
    await symlink(dir, join(dir, 'job/loop'));
    const { records, summary } = await readAll([dir]);
    expect(records).toHaveLength(1);
    expect(summary.filesRead).toBe(1);
    expect(summary.problems).toEqual([]);
  });

  it('reports an EvalReport-looking file with bad fields', async () => {
    await writeFile(
      join(dir, 'old.json'),
      JSON.stringify({ task: 'x', pass_rate: 0.5, trials: [{ trial_id: 1 }], skills_used: [] }),
    );
    const { summary } = await readAll([dir]);
    expect(summary.problems).toEqual([
      { file: join(dir, 'old.json'), reason: expect.stringContaining('invalid EvalReport: trials.0.reward') },
    ]);
  });

  it('reads files larger than its read buffer whole', async () => {
    const log = Array.from({ length: 6000 }, (_, i) => ({
      type: 'command',
      timestamp: '2024-01-01T00:00:00Z',
      command: `echo ${'x'.repeat(80)} ${i}`,
    }));
    const trials = [1, 2].map((id) => ({ trial_id: id, reward: id === 1 ? 1 : 0, session_log: log }));
    const text = JSON.stringify({ task: 'big', pass_rate: 0.5, trials, skills_used: ['s'] });
    expect(text.length).toBeGreaterThan(1024 * 1024);
    await writeFile(join(dir, 'big.json'), text);
    const { records, summary } = await readAll([dir]);
    expect(summary.problems).toEqual([]);
    expect(records.map((record) => record.reward)).toEqual([1, 0]);
  });

  it('maps an EvalReport without skills to the no-skills arm', async () => {
    await writeFile(
      join(dir, 'old.json'),
      JSON.stringify({
        task: 'x',
        pass_rate: 0.5,
        trials: [{ trial_id: 1, reward: 1, session_log: [] }],
        skills_used: [],
      }),
    );
    const { records } = await readAll([dir]);
    expect(records).toMatchObject([{ arm: 'no-skills', agent: LEGACY_AGENT, task: 'x', reward: 1 }]);
  });
});

describe('readResults on many generated results', () => {
  const GENERATED = 2000;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skill-eval-read-many-'));
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

  it('reads every file once, and the records come in the same order every time', async () => {
    const first = await readAll([dir]);
    expect(first.summary.trialResults).toBe(GENERATED + 21);
    expect(first.summary.duplicateTrials).toBe(1);
    expect(first.summary.problems).toHaveLength(1);
    expect(first.records).toHaveLength(GENERATED + 20 + 3);
    const second = await readAll([dir]);
    expect(second.records.map((record) => record.file)).toEqual(first.records.map((record) => record.file));
  });

  it('yields to the event loop every yieldEvery files', async () => {
    let seen = 0;
    let seenWhenItRan: number | undefined;
    // A job directory of 1,000 trials: listed once, then its files are read one after the other.
    await readResults(
      [join(dir, 'generated')],
      () => {
        // Queued before the reader's next yield, so it runs at that yield.
        if (++seen === 1) setImmediate(() => (seenWhenItRan = seen));
      },
      { yieldEvery: 50 },
    );
    expect(seenWhenItRan).toBeGreaterThan(1);
    expect(seenWhenItRan).toBeLessThanOrEqual(51);
  });

  it('rejects with what the callback throws, and calls it no more', async () => {
    let seen = 0;
    const reading = readResults([dir], () => {
      if (++seen === 500) throw new Error('stop here');
    });
    await expect(reading).rejects.toThrow('stop here');
    expect(seen).toBe(500);
  });
});

describe('readResults: graders', () => {
  it('reads results with a graders array and results written before graders existed alike', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-read-graders-'));
    try {
      const source = join(FIXTURES, 'jobs/demo-job/superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1');
      const old = JSON.parse(await readFile(join(source, 'result.json'), 'utf8')) as Record<string, unknown>;
      expect(old.graders).toBeUndefined();
      const graders = [
        { name: 'tests', type: 'verifier', weight: 0.5, score: 1, duration_ms: 10 },
        { name: 'approach', type: 'llm_rubric', weight: 0.5, error: 'judge: HTTP 500', duration_ms: 5 },
      ];
      await mkdir(join(dir, 'old'), { recursive: true });
      await mkdir(join(dir, 'new'), { recursive: true });
      await writeFile(join(dir, 'old', 'result.json'), JSON.stringify(old));
      await writeFile(join(dir, 'new', 'result.json'), JSON.stringify({ ...old, trial_id: 'other', graders }));
      const { records, summary } = await readAll([dir]);
      expect(summary.problems).toEqual([]);
      expect(records).toHaveLength(2);
      await writeFile(join(dir, 'new', 'result.json'), JSON.stringify({ ...old, trial_id: 'other', graders: [{}] }));
      expect((await readAll([dir])).summary.problems).toEqual([
        { file: join(dir, 'new', 'result.json'), reason: expect.stringMatching(/graders\.0\.name/) },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps what the funnel and the cost need: audited presence and opening, the session log, cost, judge calls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skill-eval-read-funnel-'));
    try {
      const source = join(FIXTURES, 'jobs/demo-job/superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1');
      const old = JSON.parse(await readFile(join(source, 'result.json'), 'utf8')) as Record<string, unknown>;
      const isolation = {
        checked: true,
        contaminated: false,
        scanned: [],
        complete: true,
        findings: [],
        skills: [
          { name: 'a', present: true, missing_from: [], opened: false },
          { name: 'b', present: false, missing_from: ['/skills'], opened: true },
        ],
      };
      const graders = [
        { name: 'tests', type: 'verifier', weight: 0.5, score: 1 },
        { name: 'approach', type: 'llm_rubric', weight: 0.5, score: 1, model: 'judge-1' },
      ];
      const usage = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, costUsd: 0.25 };
      await mkdir(join(dir, 'trial'), { recursive: true });
      await writeFile(join(dir, 'trial', 'result.json'), JSON.stringify({ ...old, isolation, graders, usage }));
      const { records } = await readAll([dir]);
      expect(records[0]).toMatchObject({
        skillsPresent: false,
        skillsOpened: true,
        sessionLog: (old.files as { session_log: string }).session_log,
        costUsd: 0.25,
        judgeCalls: 1,
      });
      expect(records[0]!.skills).toEqual(old.skills);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
