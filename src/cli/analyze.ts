import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import pc from 'picocolors';
import { analyzeComparisons } from '../analytics/analyze.js';
import { comparisonWords } from '../analytics/format.js';
import { evaluateGates, type GateOutcome } from '../analytics/gates.js';
import { CORRECTIONS, type Correction, DEFAULT_CORRECTION } from '../analytics/multiplicity.js';
import { readNoiseFloor } from '../analytics/noise.js';
import { renderCsv } from '../analytics/render/csv.js';
import { renderHtml } from '../analytics/render/html.js';
import { renderMarkdown } from '../analytics/render/markdown.js';
import { renderTerminalSet } from '../analytics/render/terminal.js';
import type { AnalysisReport } from '../analytics/report.js';
import { isArmName } from '../arms/spec.js';
import { EXIT_CODES, formatProblem, UsageError } from '../errors.js';
import { SWEEP_SUMMARY_FILE } from '../sweeps/schema.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { RegisterCommand } from './registry.js';

/** What the flags of `skill-eval analyze` (and the original's `pnpm run analyze --logDir=…`) parse into. */
export interface AnalyzeOptions {
  /** Result directories (or single result files); `./results` when none is given. */
  dirs?: string[] | undefined;
  /** The original skill-eval's flag: one more directory. */
  logDir?: string | undefined;
  /** Reward at or above which a trial passes (default 1.0). */
  passThreshold?: number | string | undefined;
  includeErrorsAsFailures?: boolean | undefined;
  /** Count contaminated no-skills trials (a skill reached the baseline) in the rates. */
  includeContaminated?: boolean | undefined;
  /** JSON report on stdout. */
  json?: boolean | undefined;
  /** `true`: to stdout; a string: to that file. */
  csv?: boolean | string | undefined;
  markdown?: boolean | string | undefined;
  html?: string | undefined;
  /** A rate in 0..1 or a percentage (`80%`). */
  failUnder?: number | string | undefined;
  minGain?: number | string | undefined;
  /** The k of pass@k and pass^k: `1,3,5` or a list. */
  k?: string | number[] | undefined;
  /** Multiple-comparison correction of the per-task p-values: holm (default), bh or none. */
  correction?: Correction | string | undefined;
  /** Read each with-skills trial's session.jsonl for the activation funnel's last stages. */
  funnel?: boolean | undefined;
  /** |Δ| in percentage points below which a task's Δ is marked as noise (`5` or `5pp`). */
  noiseFloor?: number | string | undefined;
  /** A/A results (the same arm run twice) whose differences set the noise floor. */
  noiseFrom?: string | undefined;
  /** The arm every other is compared with (default no-skills). */
  baseline?: string | undefined;
  /** Compare the baseline with this arm only (default: with every other arm in the results). */
  treatment?: string | undefined;
  /** Colours in the terminal table; defaults to "stdout is a colour TTY". */
  color?: boolean | undefined;
}

export interface AnalyzeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface AnalyzeOutcome {
  /** The first comparison's report (the only one with two arms). */
  report: AnalysisReport;
  /** One per comparison: the baseline against each other arm (docs/analyze.md "Arms"). */
  reports: AnalysisReport[];
  exitCode: number;
  gates: GateOutcome[];
}

export const DEFAULT_RESULTS_DIR = './results';
export const DEFAULT_K = [1, 3, 5];

const processIo: AnalyzeIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `skill-eval analyze DIR…`: reads every trial result under the directories, prints the report in the
 * chosen formats and evaluates the gates. Exit code 0, or 1 when a gate is not met; usage problems
 * (bad flags, no results at all) throw UsageError (exit 2).
 */
/**
 * A train-and-benchmark out root holds a sweep summary, not trial results: prints each target's score by
 * segment and returns the directories that are left for the trial analysis.
 */
export async function analyzeSweeps(
  dirs: readonly string[],
  options: { json?: boolean | undefined },
  cwd: string,
  io: AnalyzeIo = processIo,
): Promise<string[]> {
  const sweepDirs = dirs.filter((dir) => existsSync(join(resolve(cwd, dir), SWEEP_SUMMARY_FILE)));
  if (sweepDirs.length === 0) return [...dirs];
  const { readSweepSummary } = await import('../sweeps/run.js');
  const { formatSweepTable } = await import('../sweeps/report.js');
  const summaries = [];
  for (const dir of sweepDirs) {
    const summary = await readSweepSummary(join(resolve(cwd, dir), SWEEP_SUMMARY_FILE));
    if (!summary)
      throw new UsageError(
        `${join(dir, SWEEP_SUMMARY_FILE)}: expected a train-and-benchmark summary, found a file that does not validate`,
      );
    summaries.push(summary);
  }
  if (options.json) io.stdout(`${JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2)}\n`);
  else for (const summary of summaries) io.stdout(`${formatSweepTable(summary)}\n`);
  return dirs.filter((dir) => !sweepDirs.includes(dir));
}

export async function analyzeCommand(
  options: AnalyzeOptions,
  cwd: string,
  io: AnalyzeIo = processIo,
): Promise<AnalyzeOutcome> {
  const passThreshold = parseNumberFlag('--pass-threshold', options.passThreshold ?? 1);
  const failUnder = options.failUnder === undefined ? undefined : parseRate('--fail-under', options.failUnder);
  const minGain = options.minGain === undefined ? undefined : parseGain(options.minGain);
  const k = parseK(options.k ?? DEFAULT_K);
  const correction = parseCorrection(options.correction ?? DEFAULT_CORRECTION);
  if (options.noiseFloor !== undefined && options.noiseFrom !== undefined)
    throw new UsageError('--noise-floor and --noise-from both set the noise floor', { hint: 'give one of them' });
  let noiseFloorPp = options.noiseFloor === undefined ? undefined : parseNoiseFloor(options.noiseFloor);
  let noiseFrom: AnalysisReport['options']['noiseFrom'];
  if (options.noiseFrom !== undefined) {
    const dir = resolve(cwd, options.noiseFrom);
    const floor = await readNoiseFloor([dir], passThreshold);
    noiseFloorPp = floor.floorPp;
    noiseFrom = { dirs: [dir], pairs: floor.pairs, maxPp: floor.maxPp };
  }

  const dirs = [...(options.dirs ?? [])];
  if (options.logDir !== undefined) dirs.push(options.logDir);
  // `--csv DIR`: Commander hands a following directory to the optional value; a directory is no CSV file.
  let csv = options.csv;
  let markdown = options.markdown;
  if (typeof csv === 'string' && (await isDirectory(resolve(cwd, csv)))) {
    dirs.push(csv);
    csv = true;
  }
  if (typeof markdown === 'string' && (await isDirectory(resolve(cwd, markdown)))) {
    dirs.push(markdown);
    markdown = true;
  }
  if (dirs.length === 0) dirs.push(DEFAULT_RESULTS_DIR);
  const toStdout = [options.json && '--json', csv === true && '--csv', markdown === true && '--markdown'].filter(
    Boolean,
  );
  if (toStdout.length > 1) {
    throw new UsageError(`${toStdout.join(' and ')} would all print to stdout`, {
      hint: 'give a FILE to all but one of them, e.g. --csv report.csv',
    });
  }

  const baseline = options.baseline === undefined ? undefined : parseArmFlag('--baseline', options.baseline);
  const treatment = options.treatment === undefined ? undefined : parseArmFlag('--treatment', options.treatment);
  if (baseline !== undefined && baseline === treatment)
    throw new UsageError(`--baseline and --treatment are both ${baseline}`, { hint: 'compare two different arms' });
  const reports = await analyzeComparisons(
    dirs.map((dir) => resolve(cwd, dir)),
    {
      passThreshold,
      includeErrorsAsFailures: options.includeErrorsAsFailures ?? false,
      includeContaminated: options.includeContaminated ?? false,
      k,
      correction,
      funnel: options.funnel ?? false,
      noiseFloorPp,
      noiseFrom,
    },
    { baseline, treatment },
  );
  const report = reports[0]!;
  checkArms(report, baseline, treatment);

  if (report.inputs.trials === 0) {
    const problems = report.problems
      .map((problem) => `\n  ${formatProblem({ file: problem.file, message: problem.reason, severity: 'error' })}`)
      .join('');
    throw new UsageError(`no trial results found in ${report.inputs.searched.join(', ')}${problems}`, {
      hint:
        "analyze looks for result.json files (schema skill-eval/trial-result@1) in trial directories and for the original skill-eval's " +
        'EvalReport JSON files; run `skill-eval eval` first, or pass the directory that holds them (skill-eval analyze DIR, or --logDir=DIR).',
    });
  }

  const machineOutput = toStdout.length === 1;
  if (options.json) io.stdout(`${JSON.stringify(jsonOutput(reports), null, 2)}\n`);
  if (csv === true) io.stdout(renderCsv(reports));
  if (markdown === true) io.stdout(markdownOutput(reports));
  if (!machineOutput) io.stdout(renderTerminalSet(reports, { color: options.color ?? defaultColor() }));
  else if (report.problems.length > 0) {
    // Machine output owns stdout; unreadable files still get named.
    for (const problem of report.problems)
      io.stderr(
        `warning: skipped ${formatProblem({ file: problem.file, message: problem.reason, severity: 'warning' })}\n`,
      );
  }

  const written: Array<[string, string]> = [];
  if (typeof csv === 'string') written.push([csv, renderCsv(reports)]);
  if (typeof markdown === 'string') written.push([markdown, markdownOutput(reports)]);
  if (options.html !== undefined) written.push([options.html, renderHtml(reports)]);
  for (const [file, content] of written) {
    const path = resolve(cwd, file);
    await writeFileAtomic(path, content);
    io.stderr(`wrote ${path}\n`);
  }

  // The gates hold for every comparison: each treatment arm must reach them.
  const gates = reports.flatMap((each) => evaluateGates(each, { failUnder, minGain }));
  for (const gate of gates) io.stderr(`${gate.passed ? 'gate met' : 'gate FAILED'}: ${gate.message}\n`);
  const exitCode = gates.some((gate) => !gate.passed) ? EXIT_CODES.gateFailed : EXIT_CODES.ok;
  return { report, reports, exitCode, gates };
}

export const ANALYSIS_SET_SCHEMA = 'skill-eval/analysis-set@1';

/** One comparison: the report as always; several: each report in `comparisons`. */
function jsonOutput(reports: readonly AnalysisReport[]): unknown {
  return reports.length === 1 ? reports[0] : { schema: ANALYSIS_SET_SCHEMA, comparisons: reports };
}

function markdownOutput(reports: readonly AnalysisReport[]): string {
  if (reports.length === 1) return renderMarkdown(reports[0]!);
  return reports.map((each) => `# ${comparisonWords(each.comparison).title}\n\n${renderMarkdown(each)}`).join('\n');
}

function parseArmFlag(flag: string, value: string): string {
  const arm = value.trim();
  if (!isArmName(arm))
    throw new UsageError(`${flag}: expected an arm name, found "${value}"`, {
      hint: 'e.g. no-skills, with-skills, skill-as-prompt, self-generated, skill-variant:NAME=DIR, with-distractors:N, no-skills~aa',
    });
  return arm;
}

/** An arm asked for that no trial ran is a mistake worth one clear line, not an empty report. */
function checkArms(report: AnalysisReport, baseline: string | undefined, treatment: string | undefined): void {
  for (const [flag, arm] of [
    ['--baseline', baseline],
    ['--treatment', treatment],
  ] as const) {
    if (arm !== undefined && report.inputs.trials > 0 && !report.arms.includes(arm))
      throw new UsageError(
        `${flag} ${arm}: no trial of that arm in the results (their arms: ${report.arms.join(', ')})`,
      );
  }
}

export const registerAnalyze: RegisterCommand = (program: Command, setExitCode) => {
  program
    .command('analyze')
    .description(
      'Report pass rates with Wilson intervals, Δ, normalized gain and significance per task × agent × model, from trial results ' +
        '(and the original skill-eval EvalReport JSON). Never pools agents or models; a missing arm is "no data".',
    )
    .argument('[dirs...]', `result directories or files (default: ${DEFAULT_RESULTS_DIR})`)
    .option('--logDir <dir>', "a result directory (the original skill-eval's flag; same as a DIR argument)")
    .option('--pass-threshold <reward>', 'reward at or above which a trial passes', '1')
    .option(
      '--include-errors-as-failures',
      'count infra and verifier errors as failed trials instead of leaving them out of the rates',
      false,
    )
    .option(
      '--include-contaminated',
      'count no-skills trials a skill reached (result.json isolation.contaminated) in the rates instead of leaving them out',
      false,
    )
    .option('--json', 'print the full report as JSON on stdout (schema skill-eval/analysis@1)', false)
    .option('--csv [file]', 'one row per configuration × task, to FILE or stdout')
    .option('--markdown [file]', 'the tables in Markdown, to FILE or stdout')
    .option('--html <file>', 'a self-contained HTML report with charts')
    .option(
      '--fail-under <rate>',
      "exit 1 unless every configuration's with-skills pass rate (macro mean over tasks) is ≥ RATE (0..1 or 80%)",
    )
    .option('--min-gain <g>', "exit 1 unless every configuration's normalized gain g is ≥ G (undefined g fails)")
    .option('--k <list>', 'k values for pass@k and pass^k, comma-separated', DEFAULT_K.join(','))
    .option(
      '--correction <method>',
      `multiple-comparison correction of the per-task p-values across a configuration's tasks: ${CORRECTIONS.join(', ')} (holm: family-wise error; bh: false discovery rate)`,
      DEFAULT_CORRECTION,
    )
    .option(
      '--funnel',
      "read each with-skills trial's session.jsonl for the activation funnel's last stages (scripts/references used, time to first open)",
      false,
    )
    .option(
      '--noise-floor <pp>',
      'mark a task whose |Δ| is below PP percentage points as within the noise floor (from A/A runs: the same arm twice)',
    )
    .option(
      '--noise-from <dir>',
      'A/A results (two jobs running the same arm of the same tasks): the 95th percentile of their |Δ| is the noise floor',
    )
    .option('--baseline <arm>', 'the arm every other is compared with (default no-skills)')
    .option(
      '--treatment <arm>',
      'compare the baseline with this arm only (default: with every other arm in the results)',
    )
    .addOption(new Option('--no-color', 'no colours in the terminal table'))
    .action(async (dirs: string[], raw: AnalyzeOptions & { color?: boolean }) => {
      // Commander sets color=true by default for --no-color; only an explicit --no-color turns colours off.
      const color = raw.color === false ? false : undefined;
      const given = [...dirs, ...(raw.logDir !== undefined ? [raw.logDir] : [])];
      const rest = await analyzeSweeps(given, { json: raw.json }, process.cwd());
      if (given.length > 0 && rest.length === 0) return;
      const logDir = raw.logDir !== undefined && rest.includes(raw.logDir) ? raw.logDir : undefined;
      const { exitCode } = await analyzeCommand(
        { ...raw, logDir, dirs: rest.filter((d) => d !== raw.logDir), color },
        process.cwd(),
      );
      if (exitCode !== EXIT_CODES.ok) setExitCode(exitCode);
    });
};

function defaultColor(): boolean {
  return Boolean(process.stdout.isTTY) && pc.isColorSupported;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function parseNumberFlag(flag: string, value: number | string): number {
  const n = typeof value === 'number' ? value : Number(value.trim());
  if (typeof value === 'string' && value.trim() === '') throw new UsageError(`${flag}: expected a number, found ""`);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, found "${value}"`);
  return n;
}

/** `0.8` or `80%`. A bare number above 1 is refused rather than guessed at (80 → 80%? 0.8%?). */
export function parseRate(flag: string, value: number | string): number {
  const text = String(value).trim();
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  const rate = percent ? n / 100 : n;
  if (text === '' || text === '%' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new UsageError(`${flag}: expected a rate between 0 and 1 or a percentage like 80%, found "${text}"`);
  }
  return rate;
}

function parseGain(value: number | string): number {
  const gain = parseNumberFlag('--min-gain', value);
  if (gain > 1) throw new UsageError(`--min-gain: the normalized gain is at most 1, found "${value}"`);
  return gain;
}

/** `5`, `5pp` or `5 pp`: percentage points, at least 0 and at most 100. */
function parseNoiseFloor(value: number | string): number {
  const text = String(value)
    .trim()
    .replace(/\s*pp$/i, '');
  const pp = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(pp) || pp < 0 || pp > 100)
    throw new UsageError(
      `--noise-floor: expected percentage points between 0 and 100 (e.g. 5 or 5pp), found "${value}"`,
    );
  return pp;
}

function parseCorrection(value: string): Correction {
  const method = value.trim().toLowerCase();
  if (!(CORRECTIONS as readonly string[]).includes(method))
    throw new UsageError(`--correction: expected one of ${CORRECTIONS.join(', ')}, found "${value}"`, {
      hint: 'holm (the default) controls the chance of any false "significant"; bh the share of them',
    });
  return method as Correction;
}

function parseK(value: string | number[]): number[] {
  const parts = Array.isArray(value)
    ? value.map(String)
    : value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
  const ks = parts.map(Number);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new UsageError(
      `--k: expected positive whole numbers separated by commas (e.g. 1,3,5), found "${String(value)}"`,
    );
  }
  return [...new Set(ks)].sort((x, y) => x - y);
}
