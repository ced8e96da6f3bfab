import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { wilsonInterval } from '../analytics/estimators.js';
import { InfraError, type SkillEvalError, UsageError } from '../errors.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { Redactor } from '../util/secrets.js';
import {
  type Contract,
  type LoadedContract,
  loadContract,
  locateContract,
  MODE_NAMES,
  type ModeName,
  type StageName,
} from './contract.js';
import { commandDatasetCheck, fileState, readOfficialScore, scoreFilePath } from './drivers/command.js';
import { qaEvaluate, qaRollout } from './drivers/qa.js';
import type { DriverContext, DriverEvaluation, DriverRollout } from './drivers/types.js';
import { type HintReport, mineHints } from './hints.js';
import {
  type ChatMessage,
  type GoldLookup,
  type LlmSpec,
  type ModelDescription,
  ModelGateway,
  type ModelUnderTest,
  openModel,
} from './model.js';
import { isReviewed, readProvenance } from './provenance.js';
import { defaultCacheDir, type ResolvedTarget, resolveTarget } from './resolve/index.js';
import { checkSamples, readSamples } from './samples.js';
import { baseStageEnv, runCommandStage, type StageFailure, type StageLog, writeStageLog } from './stages.js';

/**
 * The env API: `setup` a target, `rollout` a model on it, `evaluate` what the rollout produced,
 * `teardown`. Every step writes its artifacts under `<artifacts>/<run_id>/env_api/` and returns a typed
 * result saying whether it worked and, if not, which stage failed and why.
 */

export interface SetupOptions {
  /** A directory, git URL (`URL#REV`) or Hugging Face dataset (`ORG/NAME[@REV]`). */
  target: string;
  /** An explicit contract.yaml; else `<contractsDir>/<slug>/contract.yaml`, else `<target>/.skill-eval/contract.yaml`. */
  contract?: string | undefined;
  contractsDir?: string | undefined;
  /** Default `~/.cache/skill-eval/targets`. */
  cacheDir?: string | undefined;
  /** Default `results/targets` under the current directory. */
  artifactsDir?: string | undefined;
  runId?: string | undefined;
  offline?: boolean | undefined;
  hfEndpoint?: string | undefined;
  /** Endpoint for model names given to rollout as plain strings (else OPENAI_BASE_URL). */
  baseUrl?: string | undefined;
  /** Overrides the contract's sample limit per mode (a sweep's `--smoke-limit`). */
  modeLimits?: Partial<Record<ModeName, number>> | undefined;
  apiKey?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Progress lines (stage commands); silent by default. */
  log?: ((line: string) => void) | undefined;
}

export interface RolloutOptions {
  /** `gold`, `empty`, a model name at the base URL, `{ baseUrl, model, apiKey }` or `{ serve: {…} }`. */
  llm: LlmSpec;
  mode?: ModeName | undefined;
  /** Fail the rollout unless its samples pass every integrity check (docs/targets.md#score-integrity). */
  requireSamples?: boolean | undefined;
  /** Another run under the same setup (the canary check uses `<run_id>.canary-empty`). */
  runId?: string | undefined;
}

export interface RolloutResult {
  ok: boolean;
  runId: string;
  mode: ModeName;
  model: ModelDescription;
  artifactsDir: string;
  rolloutPath: string;
  samplesPath: string;
  counts: DriverRollout['counts'];
  failure?: StageFailure | undefined;
  stage: StageLog;
}

export interface MetricsFile {
  schema: 'skill-eval/target-metrics@1';
  ok: boolean;
  score?: number | undefined;
  primary_metric: string;
  metrics: Record<string, number>;
  counts: DriverEvaluation['counts'];
  scoreSource: string;
  kind: Contract['scoring']['kind'];
  official: boolean;
  range: [number, number];
  ci95?: { low: number; high: number; method: 'wilson' } | undefined;
  run_id: string;
  mode: ModeName;
  target: string;
  model: ModelDescription;
  contract: { file: string; digest: string; reviewed: boolean };
  evaluated_at: string;
  failure?: StageFailure | undefined;
  notes: string[];
}

export interface EvaluateResult {
  ok: boolean;
  runId: string;
  mode: ModeName;
  score?: number | undefined;
  metrics: MetricsFile;
  metricsPath: string;
  failure?: StageFailure | undefined;
  stage: StageLog;
}

export interface TeardownResult {
  ok: boolean;
  failure?: StageFailure | undefined;
}

/** A setup-time stage (bootstrap, setup, health) failed: what failed, why, and where the logs are. */
export class TargetStageError extends InfraError {
  readonly stage: string;
  readonly code: string;
  readonly failure: StageFailure;
  readonly artifactsDir: string;
  constructor(failure: StageFailure, artifactsDir: string) {
    super(`${failure.stage} failed: ${failure.message}`, {
      retryable: false,
      hint: `stage logs: ${join(artifactsDir, 'logs')}`,
    });
    this.stage = failure.stage;
    this.code = failure.code;
    this.failure = failure;
    this.artifactsDir = artifactsDir;
  }
}

interface RolloutRecord {
  result: RolloutResult;
  model: ModelDescription;
  samplesSha256?: string | undefined;
}

function newRunId(slug: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${slug}-${randomBytes(3).toString('hex')}`;
}

async function sha256File(path: string): Promise<string | undefined> {
  return readFile(path).then(
    (bytes) => createHash('sha256').update(bytes).digest('hex'),
    () => undefined,
  );
}

/** `{match, completion}` lines: the gold canary answers `completion` to a prompt that contains `match`. */
async function loadGoldFile(path: string): Promise<GoldLookup> {
  const entries = (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const value = JSON.parse(line) as { match?: unknown; completion?: unknown };
      if (typeof value.match !== 'string' || typeof value.completion !== 'string')
        throw new UsageError(`${path}:${index + 1}: expected {"match": string, "completion": string}`);
      return { match: value.match, completion: value.completion };
    });
  return (messages: ChatMessage[]) => {
    const text = messages.map((m) => m.content).join('\n');
    return entries.find((entry) => text.includes(entry.match))?.completion;
  };
}

export class TargetEnv {
  readonly runId: string;
  readonly deadline: number;
  private readonly rollouts = new Map<string, RolloutRecord>();
  private readonly openModels: ModelUnderTest[] = [];
  private tornDown = false;

  constructor(
    readonly target: ResolvedTarget,
    readonly contract: LoadedContract,
    readonly hints: HintReport,
    readonly reviewed: boolean,
    readonly options: SetupOptions & { artifactsRoot: string; cacheDir: string },
    runId: string,
  ) {
    this.runId = runId;
    this.deadline = Date.now() + contract.contract.security.total_timeout_sec * 1000;
  }

  /** `<artifacts>/<run_id>/env_api/`. */
  artifactsDir(runId: string = this.runId): string {
    return join(this.options.artifactsRoot, runId, 'env_api');
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** The runner variables of docs/targets.md, for a stage of a run. */
  runnerEnv(
    stage: string,
    runId: string,
    mode: ModeName | undefined,
    extra: Record<string, string> = {},
  ): Record<string, string> {
    const modeSpec = mode ? this.modeSpec(mode) : undefined;
    return {
      ...baseStageEnv(),
      SKILL_EVAL_TARGET_DIR: this.target.dir,
      SKILL_EVAL_CONTRACT_DIR: this.contract.dir,
      SKILL_EVAL_ARTIFACTS_DIR: this.artifactsDir(runId),
      SKILL_EVAL_RUN_ID: runId,
      SKILL_EVAL_STAGE: stage,
      SKILL_EVAL_MODE: mode ?? '',
      SKILL_EVAL_LIMIT: modeSpec?.limit ? String(modeSpec.limit) : '',
      SKILL_EVAL_SEEDS: modeSpec ? modeSpec.seeds.join(',') : '',
      SKILL_EVAL_SAMPLES_PATH: join(this.artifactsDir(runId), 'samples.jsonl'),
      SKILL_EVAL_CACHE_DIR: this.options.cacheDir,
      SKILL_EVAL_BOOTSTRAP_DIR: this.bootstrapDir ?? '',
      ...extra,
    };
  }

  bootstrapDir: string | undefined;

  /** Runs a command stage of the contract (setup, health, teardown) in the main run. */
  async runPlainStage(name: StageName, mode?: ModeName): Promise<StageLog | undefined> {
    const stage = this.contract.contract.stages[name];
    if (!stage) return undefined;
    if (stage.driver !== 'command') throw new UsageError(`stages.${name}: only the command driver runs here`);
    return runCommandStage(stage, {
      stage: name,
      targetDir: this.target.dir,
      env: this.runnerEnv(name, this.runId, mode),
      logsDir: join(this.artifactsDir(), 'logs'),
      redactor: new Redactor([]),
      defaultTimeoutSec: this.contract.contract.security.command_timeout_sec,
      deadline: this.deadline,
      signal: this.options.signal,
      log: this.options.log,
    });
  }

  /** Bootstrap once per key (the commands and the content of the listed files); later runs reuse it. */
  async bootstrap(): Promise<void> {
    const spec = this.contract.contract.bootstrap;
    if (!spec) return;
    const hash = createHash('sha256').update(JSON.stringify(spec.commands));
    for (const file of spec.key_files)
      hash
        .update(`\0${file}\0`)
        .update(await readFile(join(this.target.dir, file)).catch(() => Buffer.from('(missing)')));
    const key = hash.digest('hex').slice(0, 16);
    const dir = join(this.options.cacheDir, 'bootstrap', this.target.slug, key);
    this.bootstrapDir = dir;
    const marker = `${dir}.done.json`;
    if (
      await stat(marker).then(
        () => true,
        () => false,
      )
    ) {
      this.log(`[bootstrap] cached (${key})`);
      return;
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const log = await runCommandStage(
      { commands: spec.commands, timeout_sec: spec.timeout_sec },
      {
        stage: 'bootstrap',
        targetDir: this.target.dir,
        env: this.runnerEnv('bootstrap', this.runId, undefined),
        logsDir: join(this.artifactsDir(), 'logs'),
        redactor: new Redactor([]),
        defaultTimeoutSec: this.contract.contract.security.command_timeout_sec,
        deadline: this.deadline,
        signal: this.options.signal,
        log: this.options.log,
      },
    );
    if (!log.ok)
      throw new TargetStageError(
        log.failure ?? { stage: 'bootstrap', code: 'command_failed', message: 'bootstrap failed', class: 'exit_code' },
        this.artifactsDir(),
      );
    await writeJsonAtomic(marker, {
      key,
      commands: spec.commands,
      key_files: spec.key_files,
      at: new Date().toISOString(),
    });
  }

  private async goldLookup(): Promise<GoldLookup | undefined> {
    const file = this.contract.contract.canary.gold_file;
    return file ? loadGoldFile(resolve(this.contract.dir, file)) : undefined;
  }

  /** The contract's mode, with the limit `modeLimits` overrides. */
  modeSpec(mode: ModeName): Contract['modes'][ModeName] {
    const spec = this.contract.contract.modes[mode];
    const limit = this.options.modeLimits?.[mode];
    return limit === undefined ? spec : { ...spec, limit };
  }

  private driverContext(runId: string, mode: ModeName, redactor: Redactor): DriverContext {
    const spec = this.modeSpec(mode);
    return {
      targetDir: this.target.dir,
      contractDir: this.contract.dir,
      artifactsDir: this.artifactsDir(runId),
      logsDir: join(this.artifactsDir(runId), 'logs'),
      samplesPath: join(this.artifactsDir(runId), 'samples.jsonl'),
      mode,
      limit: spec.limit ?? undefined,
      seeds: spec.seeds,
      runId,
      redactor,
      signal: this.options.signal,
      log: (line) => this.log(line),
    };
  }

  async rollout(options: RolloutOptions): Promise<RolloutResult> {
    if (this.tornDown) throw new UsageError('rollout after teardown');
    const mode = options.mode ?? 'smoke';
    if (!MODE_NAMES.includes(mode)) throw new UsageError(`mode ${JSON.stringify(mode)}: expected smoke or full`);
    const runId = options.runId ?? this.runId;
    const dir = this.artifactsDir(runId);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const context = this.driverContext(runId, mode, new Redactor([]));
    // A samples file from an earlier rollout must never pass for this one's.
    await rm(context.samplesPath, { force: true });
    const started = Date.now();
    const stageSpec = this.contract.contract.stages.rollout;
    let model: ModelUnderTest | undefined;
    let outcome: DriverRollout;
    let stageLog: StageLog = {
      stage: 'rollout',
      driver: stageSpec.driver,
      ok: true,
      started_at: new Date(started).toISOString(),
      duration_ms: 0,
      commands: [],
      notes: [],
    };
    let modelDescription: ModelDescription =
      typeof options.llm === 'string'
        ? { name: options.llm, kind: options.llm === 'gold' || options.llm === 'empty' ? 'canary' : 'endpoint' }
        : {
            name: 'model' in options.llm ? options.llm.model : options.llm.serve.model,
            kind: 'baseUrl' in options.llm ? 'endpoint' : 'served',
          };
    try {
      model = await openModel(options.llm, {
        baseUrl: this.options.baseUrl,
        apiKey: this.options.apiKey,
        goldLookup: await this.goldLookup(),
      });
      this.openModels.push(model);
      modelDescription = model.description;
      const redactor = new Redactor(model.secrets);
      const driverContext = { ...context, redactor };
      if (stageSpec.driver === 'qa') {
        outcome = await qaRollout(stageSpec.with!, { ...driverContext, model });
      } else if (stageSpec.driver === 'browser') {
        const { browserRollout } = await import('./drivers/browser.js');
        outcome = await browserRollout(stageSpec.with!, { ...driverContext, model });
      } else {
        const gateway = new ModelGateway(model);
        const baseUrl = await gateway.start();
        try {
          stageLog = await runCommandStage(stageSpec, {
            stage: 'rollout',
            targetDir: this.target.dir,
            env: this.runnerEnv('rollout', runId, mode, {
              SKILL_EVAL_MODEL_BASE_URL: baseUrl,
              SKILL_EVAL_MODEL: model.description.name,
              SKILL_EVAL_MODEL_API_KEY: gateway.token,
              OPENAI_BASE_URL: baseUrl,
              OPENAI_API_KEY: gateway.token,
            }),
            logsDir: context.logsDir,
            redactor,
            defaultTimeoutSec: this.contract.contract.security.command_timeout_sec,
            deadline: this.deadline,
            signal: this.options.signal,
            log: this.options.log,
          });
        } finally {
          await gateway.close();
        }
        await appendFile(
          join(dir, 'model_calls.jsonl'),
          gateway.calls.map((call) => redactor.redact(JSON.stringify(call))).join('\n') +
            (gateway.calls.length > 0 ? '\n' : ''),
        );
        const read = await readSamples(context.samplesPath);
        const failedCalls = gateway.calls.filter((call) => call.error !== undefined);
        outcome = {
          counts: { samples: read.samples.length, errors: failedCalls.length, model_calls: gateway.calls.length },
          expectedSamples: context.limit,
          fromDataset: await commandDatasetCheck(stageSpec, this.target.dir),
          failure: stageLog.failure,
          notes: read.invalidLines.length > 0 ? [`${read.invalidLines.length} invalid sample lines`] : [],
        };
        // Completions must be what the model said.
        outcome.modelResponses = gateway.calls.filter((c) => c.error === undefined).map((c) => c.response);
        if (
          model.canary === undefined &&
          failedCalls.length > 0 &&
          failedCalls.length === gateway.calls.length &&
          !outcome.failure
        ) {
          const auth = failedCalls.some((c) => /authentication/i.test(c.error ?? ''));
          outcome.failure = {
            stage: 'rollout',
            code: auth ? 'model_auth' : 'model_error',
            message: `every model call failed, e.g. ${failedCalls[0]!.error}`,
            class: auth ? 'auth' : 'network',
          };
        }
      }
    } catch (error) {
      const err = error as SkillEvalError;
      const auth = /authentication/i.test(err.message ?? '');
      outcome = {
        counts: { samples: 0, errors: 1, model_calls: 0 },
        notes: [],
        failure: {
          stage: 'rollout',
          code: auth ? 'model_auth' : err instanceof UsageError ? 'usage' : 'driver_error',
          message: err.message ?? String(error),
          class: auth ? 'auth' : err instanceof UsageError ? 'internal' : 'exit_code',
        },
      };
    }

    let failure = outcome.failure;
    if (!failure && options.requireSamples) {
      const read = await readSamples(context.samplesPath);
      const expected = outcome.expectedSamples ?? (stageSpec.driver === 'command' ? context.limit : undefined);
      const check = checkSamples(read, {
        path: context.samplesPath,
        expected,
        fromDataset: outcome.fromDataset,
        modelResponses: outcome.modelResponses,
        allowEmpty: model?.canary === 'empty',
      });
      if (check) failure = { stage: 'rollout', code: check.code, message: check.message, class: 'integrity' };
    }
    stageLog = {
      ...stageLog,
      driver: stageSpec.driver,
      ok: !failure,
      duration_ms: Date.now() - started,
      failure,
      notes: [...stageLog.notes, ...outcome.notes],
    };
    await writeStageLog(context.logsDir, stageLog);

    const result: RolloutResult = {
      ok: !failure,
      runId,
      mode,
      model: modelDescription,
      artifactsDir: dir,
      rolloutPath: join(dir, 'rollout.json'),
      samplesPath: context.samplesPath,
      counts: outcome.counts,
      failure,
      stage: stageLog,
    };
    await writeJsonAtomic(result.rolloutPath, {
      schema: 'skill-eval/target-rollout@1',
      ok: result.ok,
      run_id: runId,
      target: this.target.spec,
      mode,
      limit: context.limit ?? null,
      seeds: context.seeds,
      model: modelDescription,
      require_samples: options.requireSamples ?? false,
      counts: outcome.counts,
      samples_path: context.samplesPath,
      started_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      failure,
      notes: stageLog.notes,
      contract: { file: this.contract.file, digest: this.contract.digest, reviewed: this.reviewed },
      limits: {
        network: `${this.contract.contract.security.network} (declared; not enforced for local stages)`,
        command_timeout_sec: this.contract.contract.security.command_timeout_sec,
        total_timeout_sec: this.contract.contract.security.total_timeout_sec,
      },
    });
    this.rollouts.set(runId, { result, model: modelDescription, samplesSha256: await sha256File(context.samplesPath) });
    return result;
  }

  async evaluate(options: { mode?: ModeName | undefined; runId?: string | undefined } = {}): Promise<EvaluateResult> {
    if (this.tornDown) throw new UsageError('evaluate after teardown');
    const runId = options.runId ?? this.runId;
    const record = this.rollouts.get(runId);
    const mode = options.mode ?? record?.result.mode ?? 'smoke';
    const dir = this.artifactsDir(runId);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const context = this.driverContext(runId, mode, new Redactor([]));
    const contract = this.contract.contract;
    const stageSpec = contract.stages.evaluate;
    const started = Date.now();
    let stageLog: StageLog = {
      stage: 'evaluate',
      driver: stageSpec.driver,
      ok: true,
      started_at: new Date(started).toISOString(),
      duration_ms: 0,
      commands: [],
      notes: [],
    };
    let evaluation: DriverEvaluation;

    // A score only from an evaluation of a rollout that ran, here, and succeeded.
    if (!record)
      evaluation = {
        metrics: {},
        counts: { samples: 0 },
        scoreSource: 'none',
        notes: [],
        failure: {
          stage: 'evaluate',
          code: 'no_rollout',
          message: `no rollout ran for run ${runId} in this environment: nothing to evaluate`,
          class: 'integrity',
        },
      };
    else if (!record.result.ok)
      evaluation = {
        metrics: {},
        counts: { samples: record.result.counts.samples },
        scoreSource: 'none',
        notes: [],
        failure: {
          stage: 'evaluate',
          code: 'rollout_failed',
          message: `the rollout failed (${record.result.failure?.code ?? '?'}): nothing trustworthy to evaluate`,
          class: 'integrity',
        },
      };
    else if (record.samplesSha256 !== (await sha256File(context.samplesPath)))
      evaluation = {
        metrics: {},
        counts: { samples: record.result.counts.samples },
        scoreSource: 'none',
        notes: [],
        failure: {
          stage: 'evaluate',
          code: 'samples_changed',
          message: 'the samples file changed after the rollout wrote it',
          class: 'integrity',
        },
      };
    else {
      try {
        if (stageSpec.driver === 'qa')
          evaluation = await qaEvaluate(stageSpec.with!, contract.scoring.primary_metric, context);
        else if (stageSpec.driver === 'browser') {
          const { browserEvaluate } = await import('./drivers/browser.js');
          evaluation = await browserEvaluate(stageSpec.with!, contract.scoring.primary_metric, context);
        } else {
          const env = this.runnerEnv('evaluate', runId, mode);
          const scorePath = scoreFilePath(stageSpec.score!, this.target.dir, env);
          const before = await fileState(scorePath);
          stageLog = await runCommandStage(stageSpec, {
            stage: 'evaluate',
            targetDir: this.target.dir,
            env,
            logsDir: context.logsDir,
            redactor: context.redactor,
            defaultTimeoutSec: contract.security.command_timeout_sec,
            deadline: this.deadline,
            signal: this.options.signal,
            log: this.options.log,
          });
          const samples = record.result.counts.samples;
          if (!stageLog.ok)
            evaluation = {
              metrics: {},
              counts: { samples },
              scoreSource: 'none',
              notes: [],
              failure: stageLog.failure,
            };
          else if (record.samplesSha256 !== (await sha256File(context.samplesPath)))
            evaluation = {
              metrics: {},
              counts: { samples },
              scoreSource: 'none',
              notes: [],
              failure: {
                stage: 'evaluate',
                code: 'samples_changed',
                message: 'the evaluate stage rewrote the samples the rollout produced: the score would not be of them',
                class: 'integrity',
              },
            };
          else {
            const reading = await readOfficialScore({
              spec: stageSpec.score!,
              path: scorePath,
              before,
              range: contract.scoring.range,
              samples: record.samplesSha256 ? samples : undefined,
              targetDir: this.target.dir,
            });
            const count = reading.count ?? samples;
            const proportion =
              reading.score !== undefined && contract.scoring.range[0] === 0 && contract.scoring.range[1] === 1;
            evaluation = {
              score: reading.score,
              metrics: reading.score !== undefined ? { [contract.scoring.primary_metric]: reading.score } : {},
              counts: { samples, scored: reading.count },
              scoreSource: reading.source,
              successes: proportion && count > 0 ? Math.round(reading.score! * count) : undefined,
              failure: reading.failure,
              notes: [],
            };
          }
        }
      } catch (error) {
        evaluation = {
          metrics: {},
          counts: { samples: record.result.counts.samples },
          scoreSource: 'none',
          notes: [],
          failure: { stage: 'evaluate', code: 'driver_error', message: (error as Error).message, class: 'internal' },
        };
      }
    }
    const ok = !evaluation.failure && evaluation.score !== undefined;
    const failure =
      evaluation.failure ??
      (ok
        ? undefined
        : {
            stage: 'evaluate',
            code: 'no_score',
            message: 'the evaluation produced no score',
            class: 'score' as const,
          });
    stageLog = {
      ...stageLog,
      ok,
      duration_ms: Date.now() - started,
      failure,
      notes: [...stageLog.notes, ...evaluation.notes],
    };
    await writeStageLog(context.logsDir, stageLog);
    const n = evaluation.counts.samples;
    const interval =
      evaluation.successes !== undefined && n > 0 && evaluation.successes <= n
        ? wilsonInterval(evaluation.successes, n)
        : undefined;
    const metrics: MetricsFile = {
      schema: 'skill-eval/target-metrics@1',
      ok,
      score: ok ? evaluation.score : undefined,
      primary_metric: contract.scoring.primary_metric,
      metrics: evaluation.metrics,
      counts: evaluation.counts,
      scoreSource: evaluation.scoreSource,
      kind: contract.scoring.kind,
      official: contract.scoring.official,
      range: contract.scoring.range,
      ci95: ok && interval ? { ...interval, method: 'wilson' } : undefined,
      run_id: runId,
      mode,
      target: this.target.spec,
      model: record?.model ?? { name: 'none', kind: 'canary' },
      contract: { file: this.contract.file, digest: this.contract.digest, reviewed: this.reviewed },
      evaluated_at: new Date().toISOString(),
      failure,
      notes: evaluation.notes,
    };
    const metricsPath = join(dir, 'metrics.json');
    await writeJsonAtomic(metricsPath, metrics);
    return { ok, runId, mode, score: metrics.score, metrics, metricsPath, failure, stage: stageLog };
  }

  async teardown(): Promise<TeardownResult> {
    if (this.tornDown) return { ok: true };
    this.tornDown = true;
    let failure: StageFailure | undefined;
    try {
      const log = await this.runPlainStage('teardown');
      if (log && !log.ok) failure = log.failure;
    } catch (error) {
      failure = { stage: 'teardown', code: 'driver_error', message: (error as Error).message, class: 'internal' };
    } finally {
      for (const model of this.openModels.splice(0)) await model.close().catch(() => undefined);
    }
    return { ok: !failure, failure };
  }
}

/** Resolves the target, loads its contract, mines hints, runs bootstrap, setup and health. */
export async function setup(options: SetupOptions): Promise<TargetEnv> {
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const target = await resolveTarget(options.target, {
    cacheDir,
    offline: options.offline,
    hfEndpoint: options.hfEndpoint,
  });
  const location = await locateContract({
    targetDir: target.dir,
    slug: target.slug,
    contractsDir: options.contractsDir,
    contractFile: options.contract,
  });
  if (!location.exists) {
    throw new UsageError(
      `target ${options.target}: no contract (looked for ${location.file}${options.contractsDir ? ` and ${join(target.dir, '.skill-eval', 'contract.yaml')}` : ''})`,
      {
        hint: `write one (docs/targets.md), import a pipeline.yml (skill-eval target import), or let an agent draft it: skill-eval target scaffold ${options.target} --derive`,
      },
    );
  }
  const contract = await loadContract(location.file);
  const hints = await mineHints(target.dir);
  const reviewed = isReviewed(await readProvenance(contract.dir), contract.digest);
  const runId = options.runId ?? newRunId(target.slug);
  const env = new TargetEnv(
    target,
    contract,
    hints,
    reviewed,
    { ...options, cacheDir, artifactsRoot: resolve(options.artifactsDir ?? join('results', 'targets')) },
    runId,
  );
  await mkdir(join(env.artifactsDir(), 'logs'), { recursive: true });
  await writeJsonAtomic(join(env.artifactsDir(), 'hints_used.json'), hintsUsed(contract, hints));
  await writeJsonAtomic(join(env.artifactsDir(), 'target.json'), {
    spec: target.spec,
    kind: target.kind,
    slug: target.slug,
    dir: target.dir,
    revision: target.revision,
    commit: target.commit,
    manifest: target.manifestPath,
    from_cache: target.fromCache,
    notes: target.notes,
    contract: { file: contract.file, digest: contract.digest, reviewed },
  });
  await env.bootstrap();
  for (const stage of ['setup', 'health'] as const) {
    const log = await env.runPlainStage(stage);
    if (log && !log.ok) {
      await env.teardown();
      throw new TargetStageError(
        log.failure ?? { stage, code: 'command_failed', message: `${stage} failed`, class: 'exit_code' },
        env.artifactsDir(),
      );
    }
  }
  return env;
}

export interface HintsUsed {
  schema: 'skill-eval/hints-used@1';
  /** Anchors (distinctive tokens of the target's eval commands) that the contract's commands use. */
  used_anchors: string[];
  anchors: string[];
  commands: { stage: string; command: string; from: string; hint_class?: string | undefined }[];
}

/** Which mined hints the contract's commands came from: a matching hint's file:line, else the contract. */
export function hintsUsed(contract: LoadedContract, hints: HintReport): HintsUsed {
  const commands: HintsUsed['commands'] = [];
  const texts: string[] = [];
  const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim();
  const stages = contract.contract.stages;
  for (const [stage, spec] of Object.entries(stages)) {
    if (!spec) continue;
    if (spec.driver !== 'command') {
      texts.push(JSON.stringify(spec.with ?? {}));
      commands.push({ stage, command: `driver: ${spec.driver}`, from: `${contract.file} stages.${stage}` });
      continue;
    }
    spec.commands.forEach((command, index) => {
      texts.push(command.run);
      const hint = hints.hints.find(
        (h) =>
          normalise(command.run).includes(normalise(h.command)) ||
          normalise(h.detail ?? '\0') === normalise(command.run),
      );
      commands.push({
        stage,
        command: command.run,
        from: hint ? `${hint.file}:${hint.line}` : `${contract.file} stages.${stage}.commands[${index}]`,
        hint_class: hint?.class,
      });
    });
  }
  const all = texts.join('\n');
  return {
    schema: 'skill-eval/hints-used@1',
    used_anchors: hints.anchors.filter((anchor) => all.includes(anchor)),
    anchors: hints.anchors,
    commands,
  };
}
