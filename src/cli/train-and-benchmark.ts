import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { getAgent } from '../agents/registry.js';
import { EXIT_CODES, UsageError } from '../errors.js';
import { handleCancelSignals } from '../jobs/signals.js';
import { killLiveGroupsNow } from '../sweeps/processes.js';
import { formatSweepTable } from '../sweeps/report.js';
import { parseTargetsFile, readSweepSummary, runSweep, type SweepOptions } from '../sweeps/run.js';
import { SWEEP_SUMMARY_FILE, type SweepSummary } from '../sweeps/schema.js';
import type { RegisterCommand } from './registry.js';

/** The flags of `skill-eval train-and-benchmark`, as Commander hands them over (strings). */
export interface TrainAndBenchmarkFlags {
  baseModel?: string | undefined;
  targetsFile?: string | undefined;
  segments?: string | undefined;
  stepsPerSegment?: string | undefined;
  trainer?: string | undefined;
  outRoot?: string | undefined;
  serve?: string | undefined;
  baseUrl?: string | undefined;
  modelName?: string | undefined;
  requireSamples?: boolean | undefined;
  smokeLimit?: string | undefined;
  fullAfterLast?: boolean | undefined;
  baseline?: boolean | undefined;
  repairIters?: string | undefined;
  repairAgent?: string | undefined;
  repairModel?: string | undefined;
  retryFailed?: boolean | undefined;
  canaryCheck?: boolean | undefined;
  trainTimeout?: string | undefined;
  serveTimeout?: string | undefined;
  cacheDir?: string | undefined;
  contractsDir?: string | undefined;
  offline?: boolean | undefined;
  report?: string | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
}

export interface TrainAndBenchmarkIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: TrainAndBenchmarkIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const integerFlag = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

const flagsSchema = z.object({
  baseModel: z.string().min(1),
  targetsFile: z.string().min(1),
  segments: integerFlag(1, 10_000),
  stepsPerSegment: integerFlag(1, Number.MAX_SAFE_INTEGER),
  trainer: z.string().trim().min(1),
  outRoot: z.string().min(1),
  serve: z.string().trim().min(1).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  modelName: z.string().min(1).default('{checkpoint}'),
  smokeLimit: integerFlag(1, 10_000_000).optional(),
  repairIters: integerFlag(0, 20).default(0),
  trainTimeout: integerFlag(1, 30 * 24 * 3600).optional(),
  serveTimeout: integerFlag(1, 24 * 3600).default(600),
});

const FLAG_NAMES: Record<string, string> = {
  baseModel: '--base-model',
  targetsFile: '--targets-file',
  segments: '--segments',
  stepsPerSegment: '--steps-per-segment',
  trainer: '--trainer',
  outRoot: '--out-root',
  serve: '--serve',
  baseUrl: '--base-url',
  modelName: '--model-name',
  smokeLimit: '--smoke-limit',
  repairIters: '--repair-iters',
  trainTimeout: '--train-timeout',
  serveTimeout: '--serve-timeout',
};

/** Validates the flags at the edge: every problem names its flag. */
export async function sweepOptionsFromFlags(
  flags: TrainAndBenchmarkFlags,
  cwd: string,
): Promise<Omit<SweepOptions, 'log' | 'signal'>> {
  const parsed = flagsSchema.safeParse(flags);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const value = (flags as Record<string, unknown>)[key];
      return value === undefined
        ? `${FLAG_NAMES[key] ?? key} is required`
        : `${FLAG_NAMES[key] ?? key}: ${issue.message}, found ${JSON.stringify(value)}`;
    });
    throw new UsageError(problems.join('\n'), { hint: 'skill-eval train-and-benchmark --help' });
  }
  const values = parsed.data;
  if ((values.serve === undefined) === (values.baseUrl === undefined))
    throw new UsageError(
      'give exactly one of --serve CMD (skill-eval starts the server per segment) and --base-url URL (an endpoint you run)',
    );
  const repairAgent = flags.repairAgent ? getAgent(flags.repairAgent) : undefined;
  if (values.repairIters > 0 && !repairAgent)
    throw new UsageError('--repair-iters needs --repair-agent NAME', {
      hint: 'e.g. --repair-agent claude; see `skill-eval agents`',
    });
  const targetsFile = resolve(cwd, values.targetsFile);
  const text = await readFile(targetsFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(
      `--targets-file ${values.targetsFile}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
    );
  });
  return {
    baseModel: values.baseModel,
    targets: parseTargetsFile(text, targetsFile),
    targetsFile,
    segments: values.segments,
    stepsPerSegment: values.stepsPerSegment,
    trainer: values.trainer,
    serve: values.serve,
    baseUrl: values.baseUrl,
    modelName: values.modelName,
    outRoot: resolve(cwd, values.outRoot),
    requireSamples: flags.requireSamples ?? false,
    smokeLimit: values.smokeLimit,
    fullAfterLast: flags.fullAfterLast ?? false,
    baseline: flags.baseline ?? false,
    repairIters: values.repairIters,
    repairAgent,
    repairModel: flags.repairModel,
    retryFailed: flags.retryFailed ?? false,
    canaryCheck: flags.canaryCheck ?? true,
    trainTimeoutSec: values.trainTimeout,
    serveTimeoutSec: values.serveTimeout,
    cacheDir: flags.cacheDir === undefined ? undefined : resolve(cwd, flags.cacheDir),
    contractsDir: flags.contractsDir === undefined ? undefined : resolve(cwd, flags.contractsDir),
    offline: flags.offline,
    cwd,
  };
}

export interface TrainAndBenchmarkOutcome {
  summary: SweepSummary;
  exitCode: number;
}

function printSummary(
  summary: SweepSummary,
  flags: Pick<TrainAndBenchmarkFlags, 'json'>,
  io: TrainAndBenchmarkIo,
): void {
  io.stdout(flags.json ? `${JSON.stringify(summary, undefined, 2)}\n` : `${formatSweepTable(summary)}\n`);
}

/** `--report OUT_ROOT`: the table (or the JSON) of a sweep, finished or not. */
export async function sweepReportCommand(
  outRoot: string,
  flags: Pick<TrainAndBenchmarkFlags, 'json'>,
  cwd: string,
  io: TrainAndBenchmarkIo = processIo,
): Promise<TrainAndBenchmarkOutcome> {
  const path = join(resolve(cwd, outRoot), SWEEP_SUMMARY_FILE);
  const summary = await readSweepSummary(path);
  if (!summary)
    throw new UsageError(`${path}: no such file`, { hint: 'give the --out-root of a train-and-benchmark run' });
  printSummary(summary, flags, io);
  return { summary, exitCode: EXIT_CODES.ok };
}

/**
 * `skill-eval train-and-benchmark`: runs or resumes the sweep, then prints the table (or `--json`).
 * Exit 0 when every run succeeded, 1 when a target failed somewhere (recorded, the sweep went on).
 */
export async function trainAndBenchmarkCommand(
  flags: TrainAndBenchmarkFlags,
  cwd: string,
  io: TrainAndBenchmarkIo = processIo,
  signal?: AbortSignal,
): Promise<TrainAndBenchmarkOutcome> {
  if (flags.report !== undefined) return sweepReportCommand(flags.report, flags, cwd, io);
  const options = await sweepOptionsFromFlags(flags, cwd);
  const summary = await runSweep({
    ...options,
    signal,
    log: flags.quiet ? undefined : (line) => io.stderr(`${line}\n`),
  });
  printSummary(summary, flags, io);
  if (!flags.quiet) io.stderr(`summary: ${join(options.outRoot, SWEEP_SUMMARY_FILE)}\n`);
  const runs = [...(summary.baseline?.runs ?? []), ...summary.segments.flatMap((s) => s.runs)];
  return { summary, exitCode: runs.every((run) => run.ok) ? EXIT_CODES.ok : EXIT_CODES.gateFailed };
}

export const registerTrainAndBenchmark: RegisterCommand = (program, setExitCode) => {
  program
    .command('train-and-benchmark')
    .description(
      'Train in segments; after each, serve the checkpoint and run every target of a list in order (smoke; full after the last). Resumable; see docs/sweeps.md.',
    )
    .option('--base-model <id-or-dir>', 'what the first segment trains from ({model}); also the --baseline model')
    .option('--targets-file <file>', 'one target per line, in the order they run: directories, URL#REV, ORG/NAME[@REV]')
    .option('--segments <n>', 'training segments')
    .option('--steps-per-segment <s>', 'training steps per segment ({steps})')
    .option(
      '--trainer <cmd>',
      'trainer command template: {model} {base_model} {out_dir} {steps} {segment} {total_steps} {segment_dir}; writes {out_dir}/train.json',
    )
    .option(
      '--out-root <dir>',
      'where the checkpoints, logs, runs and train_and_benchmark_summary.json go; run again to resume',
    )
    .option(
      '--serve <cmd>',
      'server command template: {checkpoint} {port} {host} {segment}; must answer GET http://127.0.0.1:{port}/v1/models',
    )
    .option(
      '--base-url <url>',
      'instead of --serve: an OpenAI-compatible endpoint you run (key: SKILL_EVAL_MODEL_API_KEY or OPENAI_API_KEY)',
    )
    .option('--model-name <template>', 'the model name sent to the endpoint: {checkpoint} {segment}', '{checkpoint}')
    .option('--require-samples', 'fail a rollout whose samples do not pass the integrity checks')
    .option('--smoke-limit <n>', "samples per smoke run (overrides the contracts' smoke limit)")
    .option('--full-after-last', 'also run every target in full mode on the last segment (and the baseline)')
    .option('--baseline', "evaluate the base model first; report each target's change vs baseline")
    .option('--repair-iters <k>', 'let an agent fix a failing contract up to K times', '0')
    .option('--repair-agent <name>', 'agent harness for repairs')
    .option('--repair-model <id>', 'model for the repair agent')
    .option('--retry-failed', 'run again the recorded runs that failed (default: keep every recorded run)')
    .option('--no-canary-check', 'skip the empty-canary integrity run (default: once per target, on its first run)')
    .option('--train-timeout <sec>', 'kill a trainer running longer (default: no limit)')
    .option('--serve-timeout <sec>', 'how long the server may take to answer GET /models', '600')
    .option('--cache-dir <dir>', 'target cache (default ~/.cache/skill-eval/targets)')
    .option('--contracts-dir <dir>', 'contracts for targets you do not own: <dir>/<slug>/contract.yaml')
    .option('--offline', 'use only what the target cache holds')
    .option('--report <out-root>', 'print the table of an existing sweep and exit')
    .option('--json', 'print the summary JSON instead of the table')
    .option('--quiet', 'no progress on stderr')
    .action(async (flags: TrainAndBenchmarkFlags) => {
      const controller = new AbortController();
      // Every request and stage in flight listens to it: the default warning at 10 is noise here.
      setMaxListeners(0, controller.signal);
      const restore = handleCancelSignals({
        onCancel: (name) => {
          process.stderr.write(`${name}: stopping after cleaning up (again to force)\n`);
          controller.abort();
        },
        onForce: () => {
          killLiveGroupsNow();
          process.exit(EXIT_CODES.interrupted);
        },
      });
      try {
        const outcome = await trainAndBenchmarkCommand(flags, process.cwd(), processIo, controller.signal);
        setExitCode(outcome.exitCode);
      } finally {
        restore();
      }
    });
};
