import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvColumns } from '../../src/analytics/render/csv.js';
import { ANALYSIS_SCHEMA, type AnalysisReport } from '../../src/analytics/report.js';
import { type AnalyzeOptions, analyzeCommand, registerAnalyze } from '../../src/cli/analyze.js';
import { UsageError } from '../../src/errors.js';

const REPO = resolve(import.meta.dirname, '../..');
const FIXTURES = join(REPO, 'tests/fixtures/results');

async function run(options: AnalyzeOptions, cwd = REPO) {
  let stdout = '';
  let stderr = '';
  const outcome = await analyzeCommand({ color: false, ...options }, cwd, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { ...outcome, stdout, stderr };
}

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'skill-eval-analyze-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('skill-eval analyze on the sample results', () => {
  it("prints the seed README's rows, now with intervals, n and a verdict", async () => {
    const { stdout, exitCode } = await run({ dirs: [FIXTURES] });
    expect(exitCode).toBe(0);
    const lines = stdout.split('\n');
    const row = (task: string) =>
      lines
        .find((line) => line.startsWith(`${task} `))!
        .split('│')
        .map((cell) => cell.trim());
    expect(row('superlint_demo')).toEqual([
      'superlint_demo',
      '20.0% [3.6–62.4] (n=5)',
      '100.0% [56.6–100] (n=5)',
      '+80.0 pp',
      '1.00',
      'inconclusive (p=0.048, Holm p=0.095)',
    ]);
    expect(row('data_cleanup')).toEqual([
      'data_cleanup',
      '50.0% [15.0–85.0] (n=4)',
      '75.0% [30.1–95.4] (n=4)',
      '+25.0 pp',
      '0.50',
      'inconclusive (p=1.000, Holm p=1.000)',
    ]);
    expect(stdout).toContain('Task           │ Pass Rate (No Skill)    │ Pass Rate (With Skill)  │');
    expect(stdout).toContain('Normalized Gain');
  });

  it('keeps the legacy report in its own configuration, its missing arm "no data"', async () => {
    const { report, stdout } = await run({ dirs: [FIXTURES] });
    expect(report.configs.map((config) => config.label)).toEqual([
      'claude-code · claude-sonnet-4-5',
      'unknown (legacy)',
    ]);
    expect(stdout).toMatch(
      /superlint_demo │ no data +│ 66\.7% \[20\.8–93\.9\] \(n=3\) │ +— │ +— │ no data \(no-skills missing\)/,
    );
  });

  it('lists the excluded errors and the unreadable file, and summarises the configuration', async () => {
    const { stdout } = await run({ dirs: [FIXTURES] });
    expect(stdout).toContain('2 errored trials (1 infra_error, 1 verifier_error), excluded from the rates:');
    expect(stdout).toContain(
      'data_cleanup__claude-code-claude-sonnet-4-5__no-skills__5 [infra_error] docker: container failed to start',
    );
    expect(stdout).toContain(`${join(FIXTURES, 'jobs/demo-job/broken-trial/result.json')}: not valid JSON`);
    expect(stdout).toContain('No skill (macro mean, task-level 95% CI): 35.0% ±29.4 pp (2 tasks)');
    expect(stdout).toContain('Normalized gain g (aggregate): 0.81');
    expect(stdout).toContain('Skill activation: 77.8% of with-skill trials (7/9 that reported it)');
  });

  it('counts errors as failures with --include-errors-as-failures', async () => {
    const { report } = await run({ dirs: [FIXTURES], includeErrorsAsFailures: true });
    const dataCleanup = report.configs[0]!.tasks.find((row) => row.task === 'data_cleanup')!;
    expect(dataCleanup.arms['no-skills']).toMatchObject({ trials: 5, passes: 2 });
    expect(dataCleanup.arms['with-skills']).toMatchObject({ trials: 5, passes: 3 });
  });

  it('accepts the original command: --logDir, relative to the working directory', async () => {
    const { report } = await run({ logDir: 'results' }, join(REPO, 'tests/fixtures'));
    expect(report.inputs.searched).toEqual([FIXTURES]);
    expect(report.inputs.trials).toBe(23);
  });

  it('prints the full report as JSON on stdout with --json, and nothing else there', async () => {
    const { stdout, stderr } = await run({ dirs: [FIXTURES], json: true });
    const report = JSON.parse(stdout) as AnalysisReport;
    expect(report.schema).toBe(ANALYSIS_SCHEMA);
    expect(report.options).toEqual({
      passThreshold: 1,
      includeErrorsAsFailures: false,
      includeContaminated: false,
      k: [1, 3, 5],
      correction: 'holm',
      bootstrap: { resamples: 2000, seed: 20_211, level: 0.95 },
      funnel: false,
    });
    const superlint = report.configs[0]!.tasks.find((row) => row.task === 'superlint_demo')!;
    expect(superlint.significance.pValue).toBeCloseTo(12 / 252, 12);
    expect(report.errors.trials.map((trial) => trial.status)).toEqual(['infra_error', 'verifier_error']);
    // The legacy configuration's missing arm has no gain at all — not null, not 0.
    expect('gain' in report.configs[1]!.tasks[0]!).toBe(false);
    expect(stderr).toContain('warning: skipped');
  });

  it('writes CSV, Markdown and HTML files', async () => {
    const csvPath = join(out, 'report.csv');
    const markdownPath = join(out, 'report.md');
    const htmlPath = join(out, 'report.html');
    const { stdout, stderr } = await run({ dirs: [FIXTURES], csv: csvPath, markdown: markdownPath, html: htmlPath });
    expect(stdout).toContain('superlint_demo');
    expect(stderr).toContain(`wrote ${csvPath}`);
    const csv = await readFile(csvPath, 'utf8');
    expect(csv.split('\r\n')[0]).toBe(csvColumns([1, 3, 5]).join(','));
    expect(csv.split('\r\n').filter((line) => line !== '')).toHaveLength(4);
    const markdown = await readFile(markdownPath, 'utf8');
    expect(markdown).toContain(
      '| superlint\\_demo | 20.0% [3.6–62.4] (n=5) | 100.0% [56.6–100] (n=5) | +80.0 pp | 1.00 | inconclusive (p=0.048, Holm p=0.095) |',
    );
    expect(await readFile(htmlPath, 'utf8')).toContain('data-chart="pass-rates"');
  });

  it('prints CSV on stdout with a bare --csv, and takes a directory after it as a DIR', async () => {
    const { stdout } = await run({ csv: FIXTURES });
    expect(stdout.split('\r\n')[0]).toBe(csvColumns([1, 3, 5]).join(','));
  });

  it('takes the pass threshold and the k of pass@k from the flags', async () => {
    const { report } = await run({ dirs: [FIXTURES], passThreshold: '0.5', k: '2' });
    const dataCleanup = report.configs[0]!.tasks.find((row) => row.task === 'data_cleanup')!;
    // The 0.5 reward now passes.
    expect(dataCleanup.arms['no-skills']!.passes).toBe(3);
    expect(Object.keys(dataCleanup.arms['no-skills']!.passAtK)).toEqual(['2']);
  });

  it('applies the correction the flag names, and says which in the verdicts and the summary', async () => {
    const none = await run({ dirs: [FIXTURES], correction: 'none' });
    expect(none.stdout).toContain('significant: skills help (p=0.048, uncorrected)');
    expect(none.stdout).toContain('Significant (Fisher, uncorrected p < 0.05): 1 better, 0 worse');
    const bh = await run({ dirs: [FIXTURES], correction: 'BH' });
    expect(bh.report.options.correction).toBe('bh');
    expect(bh.stdout).toContain('inconclusive (p=0.048, BH p=0.095)');
    const holm = await run({ dirs: [FIXTURES] });
    expect(holm.stdout).toContain(
      'Significant (Fisher, Holm-adjusted p < 0.05): 0 better, 0 worse (corrected over 2 tested tasks)',
    );
    expect(holm.stdout).toMatch(
      /Δ \(with − without\): \+52\.5 pp \(95% CI \+25\.0 to \+80\.0 pp, bootstrap over tasks\)/,
    );
  });
});

describe('gates', () => {
  it('exits 0 when every configuration meets --fail-under', async () => {
    const { exitCode, stderr } = await run({ dirs: [join(FIXTURES, 'jobs')], failUnder: '80%' });
    expect(exitCode).toBe(0);
    expect(stderr).toContain(
      'gate met: claude-code · claude-sonnet-4-5: with-skills pass rate 87.5% ≥ 80% (--fail-under)',
    );
  });

  it('exits 1 when a configuration is under --fail-under', async () => {
    const { exitCode, stderr } = await run({ dirs: [join(FIXTURES, 'jobs')], failUnder: '0.9' });
    expect(exitCode).toBe(1);
    expect(stderr).toContain(
      'gate FAILED: claude-code · claude-sonnet-4-5: with-skills pass rate 87.5% < 90% (--fail-under)',
    );
  });

  it('exits 1 when g is under --min-gain, or undefined (the legacy configuration has no baseline)', async () => {
    expect((await run({ dirs: [join(FIXTURES, 'jobs')], minGain: '0.8' })).exitCode).toBe(0);
    expect((await run({ dirs: [join(FIXTURES, 'jobs')], minGain: '0.85' })).exitCode).toBe(1);
    const withLegacy = await run({ dirs: [FIXTURES], minGain: '0' });
    expect(withLegacy.exitCode).toBe(1);
    expect(withLegacy.stderr).toContain(
      'gate FAILED: unknown (legacy): normalized gain undefined (no task has both arms)',
    );
  });
});

describe('usage errors (exit 2)', () => {
  it('says where it looked when there are no results', async () => {
    const empty = join(out, 'empty');
    await mkdir(empty, { recursive: true });
    const error = await run({ dirs: [empty] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toBe(`no trial results found in ${empty}`);
    expect((error as UsageError).hint).toContain('result.json');
  });

  it('defaults to ./results and names it', async () => {
    const cwd = join(out, 'no-results-here');
    await mkdir(cwd, { recursive: true });
    await expect(run({}, cwd)).rejects.toThrow(`no trial results found in ${join(cwd, 'results')}`);
  });

  it.each([
    [{ failUnder: '80' }, '--fail-under: expected a rate between 0 and 1 or a percentage like 80%, found "80"'],
    [{ failUnder: 'most' }, '--fail-under'],
    [{ minGain: '1.5' }, '--min-gain: the normalized gain is at most 1'],
    [{ passThreshold: 'high' }, '--pass-threshold: expected a number'],
    [{ k: '0,3' }, '--k: expected positive whole numbers'],
    [{ correction: 'bonferroni' }, '--correction: expected one of holm, bh, none, found "bonferroni"'],
    [{ json: true, csv: true }, '--json and --csv would all print to stdout'],
    [
      { noiseFloor: 'loud' },
      '--noise-floor: expected percentage points between 0 and 100 (e.g. 5 or 5pp), found "loud"',
    ],
    [{ noiseFloor: '-1' }, '--noise-floor: expected percentage points'],
    [{ noiseFloor: '5', noiseFrom: 'x' }, '--noise-floor and --noise-from both set the noise floor'],
  ] as Array<[AnalyzeOptions, string]>)('refuses %o', async (options, message) => {
    await expect(run({ dirs: [FIXTURES], ...options })).rejects.toThrow(message);
  });

  it('--funnel reads the session log next to each with-skills result', async () => {
    const trial = 'superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1';
    const dir = join(out, 'funnel-job', trial);
    await cp(join(FIXTURES, 'jobs/demo-job', trial), dir, { recursive: true });
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as {
      files: { session_log: string };
      skills: Array<{ name: string }>;
    };
    const skill = result.skills[0]!.name;
    const lines = [
      { at: '2026-01-01T00:00:10.000Z', type: 'phase', phase: 'agent', state: 'start' },
      { at: '2026-01-01T00:00:12.000Z', type: 'note', text: `skill activated: ${skill} (Read SKILL.md)` },
      {
        at: '2026-01-01T00:00:13.000Z',
        type: 'command',
        source: 'agent',
        command: `bash /skills/${skill}/scripts/x.sh`,
      },
    ];
    await mkdir(join(dir, result.files.session_log, '..'), { recursive: true });
    await writeFile(join(dir, result.files.session_log), lines.map((line) => JSON.stringify(line)).join('\n'));
    const { stdout } = await run({ dirs: [join(out, 'funnel-job')], json: true, funnel: true });
    const funnel = (JSON.parse(stdout) as AnalysisReport).configs[0]!.summary.funnel!;
    expect(funnel.sessionLogsRead).toBe(1);
    expect(funnel.stages[4]).toMatchObject({ stage: 'resources_used', count: 1, rate: 1 });
    expect(funnel.timeToFirstOpenMs).toEqual({ trials: 1, medianMs: 2000, meanMs: 2000 });
  });

  it('takes --funnel and --noise-floor 5pp into the report', async () => {
    const { stdout } = await run({ dirs: [FIXTURES], json: true, funnel: true, noiseFloor: '5pp' });
    const report = JSON.parse(stdout) as AnalysisReport;
    expect(report.options).toMatchObject({ funnel: true, noiseFloorPp: 5 });
    const funnel = report.configs[0]!.summary.funnel!;
    // The fixtures keep no session.jsonl: the funnel says so rather than counting 0 uses.
    expect(funnel.sessionLogsRead).toBe(0);
    expect(funnel.stages[4]).toEqual({ stage: 'resources_used', known: 0, note: 'no session log found' });
    expect(funnel.stages.map((stage) => stage.stage)).toEqual([
      'supplied',
      'present',
      'listed',
      'opened',
      'resources_used',
    ]);
  });
});

describe('registerAnalyze', () => {
  async function parse(argv: string[]) {
    const program = new Command('skill-eval').exitOverride();
    let exitCode = 0;
    registerAnalyze(program, (code) => {
      exitCode = code;
    });
    const writes: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    const stderrWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await program.parseAsync(['node', 'skill-eval', ...argv]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = stderrWrite;
    }
    return { exitCode, stdout: writes.join('') };
  }

  it('parses the original `--logDir=DIR` form and the gates', async () => {
    const { exitCode, stdout } = await parse(['analyze', `--logDir=${FIXTURES}`, '--fail-under', '95%', '--no-color']);
    expect(stdout).toContain('superlint_demo │ 20.0% [3.6–62.4] (n=5)');
    expect(stdout).not.toContain('\u001b[');
    expect(exitCode).toBe(1);
  });

  it('prints JSON with --json', async () => {
    const { exitCode, stdout } = await parse(['analyze', FIXTURES, '--json']);
    expect(exitCode).toBe(0);
    expect((JSON.parse(stdout) as AnalysisReport).inputs.trials).toBe(23);
  });

  it('takes --correction, holm by default', async () => {
    const byDefault = JSON.parse((await parse(['analyze', FIXTURES, '--json'])).stdout) as AnalysisReport;
    expect(byDefault.options.correction).toBe('holm');
    const bh = JSON.parse(
      (await parse(['analyze', FIXTURES, '--json', '--correction', 'bh'])).stdout,
    ) as AnalysisReport;
    expect(bh.configs[0]!.summary.correction).toBe('bh');
  });
});

describe('analyze with more than two arms (eval --arms)', () => {
  /** The demo job, and a copy of its with-skills trials as a skill-as-prompt arm that passes none. */
  async function threeArms(): Promise<string> {
    const dir = join(out, 'three-arms');
    await rm(dir, { recursive: true, force: true });
    await cp(join(FIXTURES, 'jobs'), dir, { recursive: true });
    const job = join(FIXTURES, 'jobs', 'demo-job');
    for (const name of ['superlint_demo__claude-code-claude-sonnet-4-5__with-skills__1']) {
      const result = JSON.parse(await readFile(join(job, name, 'result.json'), 'utf8'));
      const copy = name.replace('with-skills', 'skill-as-prompt');
      await mkdir(join(dir, 'demo-job', copy), { recursive: true });
      const changed = { ...result, arm: 'skill-as-prompt', trial_id: `${result.trial_id}-p`, trial_name: copy };
      await writeFile(
        join(dir, 'demo-job', copy, 'result.json'),
        JSON.stringify({ ...changed, status: 'failed', reward: 0, skills: [] }),
      );
    }
    return dir;
  }

  it('compares each arm with no-skills, in every output', async () => {
    const dir = await threeArms();
    const { stdout, reports } = await run({ dirs: [dir] });
    expect(reports.map((r) => `${r.comparison.treatment} vs ${r.comparison.baseline}`)).toEqual([
      'with-skills vs no-skills',
      'skill-as-prompt vs no-skills',
    ]);
    expect(stdout).toContain('━━ with-skills vs no-skills');
    expect(stdout).toContain('━━ skill-as-prompt vs no-skills');
    expect(stdout).toMatch(/Pass Rate \(No Skill\)\s+│ Pass Rate \(skill-as-prompt\)/);
    expect(stdout).toContain('Δ (skill-as-prompt − no-skills)');

    const json = JSON.parse((await run({ dirs: [dir], json: true })).stdout);
    expect(json.schema).toBe('skill-eval/analysis-set@1');
    expect(json.comparisons.map((r: AnalysisReport) => r.comparison.treatment)).toEqual([
      'with-skills',
      'skill-as-prompt',
    ]);
    const csv = (await run({ dirs: [dir], csv: true })).stdout.split('\r\n');
    expect(csv[0]).toMatch(/^agent,model,baseline,treatment,task,baseline_trials,/);
    expect(csv.filter((line) => line.includes(',no-skills,skill-as-prompt,superlint_demo,'))).toHaveLength(1);
    const markdown = (await run({ dirs: [dir], markdown: true })).stdout;
    expect(markdown).toContain('# skill-as-prompt vs no-skills');
    const html = join(out, 'three-arms.html');
    await run({ dirs: [dir], html });
    expect(await readFile(html, 'utf8')).toContain('skill-as-prompt vs no-skills · claude-code');
  });

  it('--baseline and --treatment choose the pair; an arm no trial ran is a UsageError', async () => {
    const dir = await threeArms();
    const { reports, stdout } = await run({ dirs: [dir], baseline: 'with-skills', treatment: 'skill-as-prompt' });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.comparison).toEqual({ baseline: 'with-skills', treatment: 'skill-as-prompt' });
    expect(stdout).not.toContain('━━');
    expect(stdout).toMatch(/superlint_demo\s+│ 100\.0%.*│ 0\.0%/);
    await expect(run({ dirs: [dir], baseline: 'self-generated' })).rejects.toThrow(
      '--baseline self-generated: no trial of that arm in the results (their arms: with-skills, no-skills, skill-as-prompt)',
    );
    await expect(run({ dirs: [dir], treatment: 'nonsense' })).rejects.toThrow(
      '--treatment: expected an arm name, found "nonsense"',
    );
  });
});
