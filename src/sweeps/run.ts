import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Agent } from '../agents/types.js';
import { errorMessage, InfraError, InterruptedError, TaskFormatError, UsageError } from '../errors.js';
import type { ModeName } from '../targets/contract.js';
import { CANARIES } from '../targets/model.js';
import { type VerifySuiteOptions, type VerifySuiteResult, verifyTarget } from '../targets/suite.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { zodProblems } from '../util/problems.js';
import { changesVsBaseline } from './compare.js';
import {
  checkTemplate,
  MODEL_NAME_PLACEHOLDERS,
  placeholderEnv,
  renderTemplate,
  SERVE_PLACEHOLDERS,
  TRAINER_PLACEHOLDERS,
} from './placeholders.js';
import { acquireLock, freePort, runLogged, startServer, stopOrphans, waitForEndpoint } from './processes.js';
import {
  runOrder,
  type ServeRecord,
  SWEEP_SCHEMA,
  SWEEP_SUMMARY_FILE,
  type SweepConfig,
  type SweepRun,
  type SweepSegment,
  type SweepSummary,
  sweepSummarySchema,
  type TrainReport,
  trainReportSchema,
} from './schema.js';

/**
 * Train-and-benchmark: per segment, train (from the base model or the previous checkpoint), serve the
 * checkpoint, and run every target of the list in order through the env API (setup → rollout → evaluate
 * → teardown). The orchestration knows targets only as opaque specs in a list: nothing here depends on
 * which benchmark a target is.
 */

export interface SweepOptions {
  /** A model id or a directory (then passed as an absolute path). */
  baseModel: string;
  /** In order, as written in the targets file. */
  targets: string[];
  targetsFile?: string | undefined;
  segments: number;
  stepsPerSegment: number;
  /** Command template: {model} {base_model} {out_dir} {steps} {segment} {total_steps} {segment_dir}. */
  trainer: string;
  /** Command template: {checkpoint} {port} {host} {segment}. Exactly one of serve and baseUrl. */
  serve?: string | undefined;
  baseUrl?: string | undefined;
  /** The model name sent to the endpoint: {checkpoint} {segment}. */
  modelName: string;
  apiKey?: string | undefined;
  /** Absolute. */
  outRoot: string;
  requireSamples: boolean;
  smokeLimit?: number | undefined;
  fullAfterLast: boolean;
  baseline: boolean;
  repairIters: number;
  repairAgent?: Agent | undefined;
  repairModel?: string | undefined;
  /** Run again the recorded runs that failed (default: a recorded run is kept, failed or not). */
  retryFailed: boolean;
  canaryCheck: boolean;
  trainTimeoutSec?: number | undefined;
  serveTimeoutSec: number;
  cacheDir?: string | undefined;
  contractsDir?: string | undefined;
  offline?: boolean | undefined;
  hfEndpoint?: string | undefined;
  cwd: string;
  log?: ((line: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export const LOCK_FILE = '.train-and-benchmark.lock';

/** One target per line; blank lines and `#` comments skipped; each target once. */
export function parseTargetsFile(text: string, file: string): string[] {
  const targets: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (targets.includes(line))
      throw new UsageError(`${file}:${index + 1}: ${line} is listed twice`, {
        hint: 'list each target once: runs are keyed by the target as written',
      });
    targets.push(line);
  }
  if (targets.length === 0)
    throw new UsageError(`${file}: no targets`, {
      hint: 'one target per line: a directory, URL#REV or ORG/NAME[@REV]; # starts a comment',
    });
  return targets;
}

/** The modes a phase runs: smoke always; full for the baseline and the last segment with --full-after-last. */
export function plannedModes(config: Pick<SweepConfig, 'segments' | 'full_after_last'>, segment: number): ModeName[] {
  const full = config.full_after_last && (segment === 0 || segment === config.segments);
  return full ? ['smoke', 'full'] : ['smoke'];
}

/** Every phase trained and every planned run recorded. */
export function isComplete(summary: Pick<SweepSummary, 'config' | 'targets' | 'baseline' | 'segments'>): boolean {
  const covered = (runs: readonly SweepRun[], segment: number): boolean =>
    plannedModes(summary.config, segment).every((mode) =>
      summary.targets.every((target) => runs.some((r) => r.target === target && r.mode === mode)),
    );
  if (summary.config.baseline && !(summary.baseline && covered(summary.baseline.runs, 0))) return false;
  for (let n = 1; n <= summary.config.segments; n++) {
    const segment = summary.segments[n - 1];
    if (!segment?.train?.ok || !covered(segment.runs, n)) return false;
  }
  return true;
}

/** Adds or replaces a run, keeping plan order (smoke before full, targets in file order). */
export function recordRun(runs: SweepRun[], run: SweepRun, targets: readonly string[]): void {
  const at = runs.findIndex((r) => r.target === run.target && r.mode === run.mode);
  if (at >= 0) runs.splice(at, 1, run);
  else runs.push(run);
  runs.sort((a, b) => runOrder(targets, a) - runOrder(targets, b));
}

export function toRun(target: string, mode: ModeName, result: VerifySuiteResult, startedAt: number): SweepRun {
  const metrics = result.metrics ?? undefined;
  const samples = metrics?.counts.samples;
  // A Wilson interval in metrics.json means the score is a proportion of the samples: successes are countable.
  const successes =
    metrics?.ci95 && metrics.score !== undefined && samples
      ? (metrics.counts.correct ?? Math.round(metrics.score * samples))
      : undefined;
  return {
    target,
    mode,
    ok: result.ok,
    rollout_ok: result.rollout_ok,
    evaluation_ok: result.evaluation_ok,
    score: metrics?.score,
    primary_metric: metrics?.primary_metric,
    samples,
    successes,
    ci95: metrics?.ci95 ? { low: metrics.ci95.low, high: metrics.ci95.high } : undefined,
    metrics: metrics as SweepRun['metrics'],
    artifacts_dir: result.artifacts_dir ?? undefined,
    error: result.error ?? undefined,
    failed_stage: result.failed_stage ?? undefined,
    failure_code: result.failure_code ?? undefined,
    failure_class: result.failure_class ?? undefined,
    canary: result.canary ? { ...result.canary } : undefined,
    repair: result.repair ?? undefined,
    started_at: new Date(startedAt).toISOString(),
    duration_ms: Date.now() - startedAt,
  };
}

type CheckedTrainReport =
  | { ok: true; report: TrainReport; checkpoint: string }
  | { ok: false; error: string; report?: Record<string, unknown> | undefined };

/** `{out_dir}/train.json`, checked: ok, schema, and a checkpoint directory that exists. */
export async function readTrainReport(outDir: string): Promise<CheckedTrainReport> {
  const path = join(outDir, 'train.json');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return { ok: false, error: `the trainer wrote no ${path}` };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `${path} is not JSON: ${errorMessage(error)}` };
  }
  const parsed = trainReportSchema.safeParse(data);
  const raw = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  if (!parsed.success)
    return {
      ok: false,
      error: `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`,
      report: raw,
    };
  if (!parsed.data.ok) return { ok: false, error: `${path} says ok: false`, report: raw };
  const checkpoint = resolve(outDir, parsed.data.checkpoint ?? '.');
  const info = await stat(checkpoint).catch(() => undefined);
  if (!info?.isDirectory())
    return { ok: false, error: `the checkpoint ${checkpoint} (train.json) is not a directory`, report: raw };
  return { ok: true, report: parsed.data, checkpoint };
}

function configOf(options: SweepOptions): SweepConfig {
  return {
    segments: options.segments,
    steps_per_segment: options.stepsPerSegment,
    trainer: options.trainer,
    serve: options.serve,
    base_url: options.baseUrl,
    model_name: options.modelName,
    targets_file: options.targetsFile,
    require_samples: options.requireSamples,
    smoke_limit: options.smokeLimit,
    full_after_last: options.fullAfterLast,
    baseline: options.baseline,
    repair_iters: options.repairIters,
    canary_check: options.canaryCheck,
  };
}

/** Settings whose change would make the recorded results incomparable with new ones. */
function incompatibilities(previous: SweepSummary, options: SweepOptions): string[] {
  const differences: string[] = [];
  const differ = (label: string, before: unknown, after: unknown): void => {
    if (JSON.stringify(before) !== JSON.stringify(after))
      differences.push(`${label}: ${JSON.stringify(before)} then, ${JSON.stringify(after)} now`);
  };
  differ('--base-model', previous.base_model, options.baseModel);
  differ('targets', previous.targets, options.targets);
  differ('--steps-per-segment', previous.config.steps_per_segment, options.stepsPerSegment);
  differ('--trainer', previous.config.trainer, options.trainer);
  differ('--smoke-limit', previous.config.smoke_limit, options.smokeLimit);
  differ('--require-samples', previous.config.require_samples, options.requireSamples);
  return differences;
}

export async function readSweepSummary(path: string): Promise<SweepSummary | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not JSON (${errorMessage(error)})`, {
      hint: 'move it away to start the sweep afresh',
    });
  }
  const parsed = sweepSummarySchema.safeParse(data);
  if (!parsed.success)
    throw new TaskFormatError(zodProblems(parsed.error, path, data), {
      hint: 'not a train-and-benchmark summary this version can resume; move it away to start afresh',
    });
  return parsed.data;
}

interface Phase {
  label: string;
  /** 0 for the baseline. */
  segment: number;
  dir: string;
  checkpoint: string;
  record: { runs: SweepRun[]; serve?: ServeRecord | undefined };
}

interface Endpoint {
  baseUrl: string;
  modelName: string;
  apiKey: string | undefined;
  stop: () => Promise<boolean | undefined>;
}

class Sweep {
  private readonly summaryPath: string;
  private readonly log: (line: string) => void;
  private readonly baseModelArgument: string;
  summary!: SweepSummary;

  constructor(private readonly options: SweepOptions) {
    this.summaryPath = join(options.outRoot, SWEEP_SUMMARY_FILE);
    this.log = (line) => options.log?.(line);
    // A base model that is a path is passed as an absolute one; anything else (a hub id) as written.
    const asPath = resolve(options.cwd, options.baseModel);
    this.baseModelArgument = existsSync(asPath) ? asPath : options.baseModel;
  }

  async open(): Promise<void> {
    const now = new Date().toISOString();
    const previous = await readSweepSummary(this.summaryPath);
    if (previous) {
      const differences = incompatibilities(previous, this.options);
      if (differences.length > 0)
        throw new UsageError(`${this.summaryPath} records a different sweep: ${differences.join('; ')}`, {
          hint: 'use another --out-root, or the same settings to resume this one',
        });
      this.summary = { ...previous, config: configOf(this.options) };
      this.log(
        `resuming ${this.summaryPath}: ${previous.segments.filter((s) => s.train?.ok).length} segments trained, ${[...(previous.baseline?.runs ?? []), ...previous.segments.flatMap((s) => s.runs)].length} runs recorded`,
      );
    } else {
      this.summary = {
        schema: SWEEP_SCHEMA,
        base_model: this.options.baseModel,
        targets: [...this.options.targets],
        config: configOf(this.options),
        created_at: now,
        updated_at: now,
        complete: false,
        segments: [],
        changes: [],
      };
    }
    await this.save();
  }

  /** Validated against the schema, then written atomically: a reader or a kill -9 sees the old or the new file. */
  async save(): Promise<void> {
    this.summary.changes = changesVsBaseline(this.summary);
    this.summary.complete = isComplete(this.summary);
    this.summary.updated_at = new Date().toISOString();
    await writeJsonAtomic(this.summaryPath, sweepSummarySchema.parse(this.summary));
  }

  private checkInterrupted(): void {
    if (this.options.signal?.aborted)
      throw new InterruptedError('train-and-benchmark interrupted; run the same command again to resume');
  }

  async run(): Promise<SweepSummary> {
    if (this.options.baseline) {
      this.summary.baseline ??= { checkpoint: this.baseModelArgument, runs: [] };
      await this.runPhase({
        label: 'baseline',
        segment: 0,
        dir: join(this.options.outRoot, 'baseline'),
        checkpoint: this.baseModelArgument,
        record: this.summary.baseline,
      });
    }
    let previousCheckpoint = this.baseModelArgument;
    // Once a segment is (re)trained, every later one builds on a new checkpoint and is trained again.
    let retrainRest = false;
    for (let n = 1; n <= this.options.segments; n++) {
      this.checkInterrupted();
      const trained = await this.train(n, previousCheckpoint, retrainRest);
      retrainRest ||= trained.ran;
      previousCheckpoint = trained.checkpoint;
      const segment = this.summary.segments[n - 1]!;
      await this.runPhase({
        label: `segment ${n}`,
        segment: n,
        dir: this.segmentDir(n),
        checkpoint: trained.checkpoint,
        record: segment,
      });
    }
    await this.save();
    return this.summary;
  }

  private segmentDir(n: number): string {
    return join(this.options.outRoot, `segment-${n}`);
  }

  private async train(n: number, from: string, mustTrain: boolean): Promise<{ checkpoint: string; ran: boolean }> {
    const dir = this.segmentDir(n);
    const outDir = join(dir, 'checkpoint');
    const logPath = join(dir, 'train.log');
    const steps = this.options.stepsPerSegment;
    const values = {
      model: from,
      base_model: this.baseModelArgument,
      out_dir: outDir,
      steps: String(steps),
      segment: String(n),
      total_steps: String(n * steps),
      segment_dir: dir,
    };
    const command = renderTemplate(this.options.trainer, values);
    const existing = this.summary.segments[n - 1];

    if (!mustTrain) {
      const found = await readTrainReport(outDir);
      if (found.ok) {
        this.log(`segment ${n}: trained already (${join(outDir, 'train.json')}), not training again`);
        const kept = existing?.train?.ok
          ? existing.train
          : {
              ok: true,
              steps: found.report.steps,
              last_loss: found.report.last_loss,
              from,
              command,
              log: logPath,
              report: found.report,
            };
        const segment: SweepSegment = {
          ...(existing ?? { runs: [] }),
          segment: n,
          checkpoint: found.checkpoint,
          train: { ...kept, resumed: true },
        };
        this.summary.segments[n - 1] = segment;
        await this.save();
        return { checkpoint: found.checkpoint, ran: false };
      }
    }

    // (Re)training: what was recorded for this segment and later ones came from another checkpoint.
    this.summary.segments.length = n - 1;
    const startedAt = Date.now();
    this.summary.segments.push({
      segment: n,
      runs: [],
      train: { ok: false, from, command, log: logPath, resumed: false, started_at: new Date(startedAt).toISOString() },
    });
    await this.save();
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    this.log(`segment ${n}: training ${steps} steps from ${from}: ${command}`);
    const result = await runLogged({
      role: 'train',
      command,
      cwd: this.options.cwd,
      env: { ...(process.env as Record<string, string>), ...placeholderEnv(values) },
      logPath,
      pidFile: join(dir, 'train.pid.json'),
      timeoutMs: this.options.trainTimeoutSec === undefined ? undefined : this.options.trainTimeoutSec * 1000,
      signal: this.options.signal,
    });
    this.checkInterrupted();
    const found = await readTrainReport(outDir);
    const exitError =
      result.exitCode === 0
        ? undefined
        : result.timedOut
          ? `the trainer timed out after ${this.options.trainTimeoutSec} s`
          : `the trainer exited with ${result.exitCode ?? result.signal ?? 'a signal'}`;
    const error = exitError ?? (found.ok ? undefined : found.error);
    const segment = this.summary.segments[n - 1]!;
    segment.train = {
      ok: error === undefined,
      steps: found.ok ? found.report.steps : undefined,
      last_loss: found.ok ? found.report.last_loss : undefined,
      from,
      command,
      log: logPath,
      report: found.report,
      exit_code: result.exitCode,
      timed_out: result.timedOut || undefined,
      resumed: false,
      started_at: new Date(startedAt).toISOString(),
      duration_ms: Date.now() - startedAt,
      error,
    };
    segment.checkpoint = found.ok && error === undefined ? found.checkpoint : undefined;
    await this.save();
    if (error !== undefined || !found.ok)
      throw new InfraError(`segment ${n}: ${error}`, {
        retryable: false,
        hint: `the trainer's output: ${logPath}; fix it and run the same command again to resume`,
      });
    this.log(`segment ${n}: trained, loss ${found.report.last_loss ?? '?'}, checkpoint ${found.checkpoint}`);
    return { checkpoint: found.checkpoint, ran: true };
  }

  private async runPhase(phase: Phase): Promise<void> {
    const planned = plannedModes(this.summary.config, phase.segment).flatMap((mode) =>
      this.options.targets.map((target) => ({ target, mode })),
    );
    const pending = planned.filter(({ target, mode }) => {
      const recorded = phase.record.runs.find((r) => r.target === target && r.mode === mode);
      return !recorded || (this.options.retryFailed && !recorded.ok);
    });
    if (pending.length === 0) {
      this.log(`${phase.label}: every run recorded already`);
      return;
    }
    this.checkInterrupted();
    await mkdir(phase.dir, { recursive: true });
    const endpoint = await this.openEndpoint(phase);
    try {
      for (const { target, mode } of pending) {
        this.checkInterrupted();
        this.log(`${phase.label}: ${target} (${mode})`);
        const run = await this.runTarget(target, mode, phase, endpoint);
        // A run cut short by Ctrl-C is not a result: it is run again next time.
        this.checkInterrupted();
        recordRun(phase.record.runs, run, this.options.targets);
        await this.save();
        this.log(
          `${phase.label}: ${target} (${mode}): ${run.ok ? `${run.primary_metric} = ${run.score}` : `failed at ${run.failed_stage} (${run.failure_code}): ${run.error}`}`,
        );
      }
    } finally {
      const cleanly = await endpoint.stop();
      if (phase.record.serve && cleanly !== undefined) phase.record.serve.stopped_cleanly = cleanly;
      await this.save();
    }
  }

  private async openEndpoint(phase: Phase): Promise<Endpoint> {
    const modelName = renderTemplate(
      this.options.modelName,
      { checkpoint: phase.checkpoint, segment: String(phase.segment) },
      { quote: false },
    );
    if ((CANARIES as readonly string[]).includes(modelName))
      throw new UsageError(`--model-name gives ${JSON.stringify(modelName)}, the name of a canary model`, {
        hint: 'choose a --model-name template that names the checkpoint',
      });
    const readyTimeoutMs = this.options.serveTimeoutSec * 1000;
    if (this.options.serve) {
      const port = await freePort();
      const values = {
        checkpoint: phase.checkpoint,
        port: String(port),
        host: '127.0.0.1',
        segment: String(phase.segment),
      };
      const command = renderTemplate(this.options.serve, values);
      const baseUrl = `http://127.0.0.1:${port}/v1`;
      const logPath = join(phase.dir, 'serve.log');
      this.log(`${phase.label}: serving ${phase.checkpoint} at ${baseUrl}: ${command}`);
      const server = await startServer({
        role: 'serve',
        command,
        cwd: this.options.cwd,
        env: { ...(process.env as Record<string, string>), ...placeholderEnv(values) },
        logPath,
        pidFile: join(phase.dir, 'serve.pid.json'),
        baseUrl,
        readyTimeoutMs,
        signal: this.options.signal,
      });
      phase.record.serve = {
        base_url: baseUrl,
        model_name: modelName,
        command,
        log: logPath,
        pgid: server.pgid,
        ready_ms: server.readyMs,
      };
      await this.save();
      // A local server needs no key; never hand it the host's.
      return { baseUrl, modelName, apiKey: this.options.apiKey ?? 'no-key', stop: () => server.stop() };
    }
    const baseUrl = this.options.baseUrl!;
    const readyMs = await waitForEndpoint(baseUrl, readyTimeoutMs);
    phase.record.serve = { base_url: baseUrl, model_name: modelName, ready_ms: readyMs };
    await this.save();
    return { baseUrl, modelName, apiKey: this.options.apiKey, stop: async () => undefined };
  }

  private async runTarget(target: string, mode: ModeName, phase: Phase, endpoint: Endpoint): Promise<SweepRun> {
    const startedAt = Date.now();
    // The integrity check with the empty canary runs once per target: on its first planned run.
    const firstPhase = this.options.baseline ? 0 : 1;
    const suiteOptions: VerifySuiteOptions = {
      targets: [target],
      llm: endpoint.modelName,
      mode,
      requireSamples: this.options.requireSamples,
      baseUrl: endpoint.baseUrl,
      apiKey: endpoint.apiKey,
      cacheDir: this.options.cacheDir,
      contractsDir: this.options.contractsDir,
      artifactsDir: join(phase.dir, 'targets'),
      offline: this.options.offline,
      hfEndpoint: this.options.hfEndpoint,
      modeLimits: this.options.smokeLimit === undefined ? undefined : { smoke: this.options.smokeLimit },
      canaryCheck: this.options.canaryCheck && mode === 'smoke' && phase.segment === firstPhase,
      repairIters: this.options.repairIters,
      repairAgent: this.options.repairAgent,
      repairModel: this.options.repairModel,
      log: this.options.log,
      signal: this.options.signal,
    };
    // Relative directories are relative to the command's cwd; every other spec goes to setup as written.
    const asPath = resolve(this.options.cwd, target);
    const spec = existsSync(asPath) ? asPath : target;
    let result = await verifyTarget(spec, suiteOptions);
    if (!result.ok && this.options.repairIters > 0 && this.options.repairAgent && !this.options.signal?.aborted) {
      const { repairTarget } = await import('../targets/repair.js');
      result = await repairTarget(spec, result, suiteOptions);
    }
    return toRun(target, mode, result, startedAt);
  }
}

/** Pid files the sweep writes beside its logs: `baseline/serve.pid.json`, `segment-N/{train,serve}.pid.json`. */
async function pidFilesUnder(outRoot: string): Promise<string[]> {
  const entries = await readdir(outRoot, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && /^(baseline|segment-\d+)$/.test(e.name))
    .flatMap((e) => ['train.pid.json', 'serve.pid.json'].map((file) => join(outRoot, e.name, file)));
}

/** Checks the templates (every placeholder known) before anything runs. */
export function checkSweepTemplates(options: Pick<SweepOptions, 'trainer' | 'serve' | 'modelName'>): void {
  checkTemplate('--trainer', options.trainer, TRAINER_PLACEHOLDERS);
  if (options.serve !== undefined) {
    const used = checkTemplate('--serve', options.serve, SERVE_PLACEHOLDERS);
    if (!used.includes('port'))
      throw new UsageError('--serve: the command must use {port}', {
        hint: 'skill-eval picks a free port and polls http://127.0.0.1:{port}/v1/models until the server answers',
      });
  }
  checkTemplate('--model-name', options.modelName, MODEL_NAME_PLACEHOLDERS);
  if ((CANARIES as readonly string[]).includes(options.modelName))
    throw new UsageError(`--model-name ${options.modelName} is the name of a canary model`, {
      hint: 'choose a --model-name template that names the checkpoint, e.g. {checkpoint}',
    });
}

/** Runs (or resumes) the sweep in `options.outRoot`; returns the final summary. */
export async function runSweep(options: SweepOptions): Promise<SweepSummary> {
  checkSweepTemplates(options);
  if ((options.serve === undefined) === (options.baseUrl === undefined))
    throw new UsageError('give exactly one of --serve CMD and --base-url URL');
  await mkdir(options.outRoot, { recursive: true });
  const release = await acquireLock(join(options.outRoot, LOCK_FILE));
  try {
    for (const note of await stopOrphans(await pidFilesUnder(options.outRoot))) options.log?.(note);
    const sweep = new Sweep(options);
    await sweep.open();
    return await sweep.run();
  } finally {
    await release();
  }
}
