import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { Redactor } from '../util/secrets.js';
import {
  type LoadedContract,
  loadContract,
  locateContract,
  MODE_NAMES,
  type ModeName,
  type ModeSpec,
  type StageName,
} from './contract.js';
import { driverFor } from './drivers/registry.js';
import type { DriverEvaluation, DriverRollout, EvaluateStageContext, StageContext, StageRun } from './drivers/types.js';
import { bootstrapCache, emptyBootstrapDir, isBootstrapped, markBootstrapped } from './env/bootstrap.js';
import { evaluationFailure, failedEvaluation, metricsFile, unevaluable } from './env/evaluate.js';
import { loadGoldFile } from './env/gold.js';
import { hintsUsed } from './env/hints-used.js';
import { describeLlm, failedRollout, samplesFailure, writeRolloutFile } from './env/rollout.js';
import { TargetStageError } from './env/stage-error.js';
import { closeStageLog, emptyStageLog } from './env/stage-log.js';
import type {
  EnvOptions,
  EvaluateResult,
  RolloutOptions,
  RolloutRecord,
  RolloutResult,
  SetupOptions,
  TeardownResult,
} from './env/types.js';
import { sha256File } from './file-digest.js';
import { type HintReport, mineHints } from './hints.js';
import { type GoldLookup, type ModelDescription, type ModelUnderTest, openModel } from './model.js';
import { isReviewed, readProvenance } from './provenance.js';
import { defaultCacheDir, type ResolvedTarget, resolveTarget } from './resolve/index.js';
import {
  baseStageEnv,
  type CommandStageContext,
  runCommandStage,
  type StageFailure,
  type StageLog,
  writeStageLog,
} from './stages.js';

/**
 * The env API: `setup` a target, `rollout` a model on it, `evaluate` what the rollout produced,
 * `teardown`. Every step writes its artifacts under `<artifacts>/<run_id>/env_api/` and returns a typed
 * result saying whether it worked and, if not, which stage failed and why. The stages themselves are the
 * drivers' (drivers/registry.ts); the pieces around them live in env/.
 */

export { type HintsUsed, hintsUsed } from './env/hints-used.js';
export { TargetStageError } from './env/stage-error.js';
export type {
  EvaluateResult,
  MetricsFile,
  RolloutOptions,
  RolloutResult,
  SetupOptions,
  TeardownResult,
} from './env/types.js';

function newRunId(slug: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${slug}-${randomBytes(3).toString('hex')}`;
}

export class TargetEnv {
  readonly runId: string;
  readonly deadline: number;
  bootstrapDir: string | undefined;
  private readonly rollouts = new Map<string, RolloutRecord>();
  private readonly openModels: ModelUnderTest[] = [];
  private tornDown = false;

  constructor(
    readonly target: ResolvedTarget,
    readonly contract: LoadedContract,
    readonly hints: HintReport,
    readonly reviewed: boolean,
    readonly options: EnvOptions,
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

  /** How a stage of the main run (bootstrap, setup, health, teardown) runs its commands. */
  private commandContext(stage: string, mode: ModeName | undefined): CommandStageContext {
    return {
      stage,
      targetDir: this.target.dir,
      env: this.runnerEnv(stage, this.runId, mode),
      logsDir: join(this.artifactsDir(), 'logs'),
      redactor: new Redactor([]),
      defaultTimeoutSec: this.contract.contract.security.command_timeout_sec,
      deadline: this.deadline,
      signal: this.options.signal,
      log: this.options.log,
    };
  }

  /** Runs a stage of the contract that neither rolls out nor scores (setup, health, teardown) in the main run. */
  async runPlainStage(name: StageName, mode?: ModeName): Promise<StageLog | undefined> {
    const stage = this.contract.contract.stages[name];
    if (!stage) return undefined;
    const driver = driverFor(stage);
    if (!driver.run) throw new UsageError(`stages.${name}: only the command driver runs here`);
    return driver.run(stage, this.commandContext(name, mode));
  }

  /** Bootstrap once per key (the commands and the content of the listed files); later runs reuse it. */
  async bootstrap(): Promise<void> {
    const spec = this.contract.contract.bootstrap;
    if (!spec) return;
    const cache = await bootstrapCache(spec, this.target, this.options.cacheDir);
    this.bootstrapDir = cache.dir;
    if (await isBootstrapped(cache)) {
      this.log(`[bootstrap] cached (${cache.key})`);
      return;
    }
    await emptyBootstrapDir(cache);
    const stage = { commands: spec.commands, timeout_sec: spec.timeout_sec };
    const log = await runCommandStage(stage, this.commandContext('bootstrap', undefined));
    if (!log.ok)
      throw new TargetStageError(
        log.failure ?? { stage: 'bootstrap', code: 'command_failed', message: 'bootstrap failed', class: 'exit_code' },
        this.artifactsDir(),
      );
    await markBootstrapped(cache, spec);
  }

  private async goldLookup(): Promise<GoldLookup | undefined> {
    const file = this.contract.contract.canary.gold_file;
    return file ? loadGoldFile(resolve(this.contract.dir, file)) : undefined;
  }

  /** The contract's mode, with the limit `modeLimits` overrides. */
  modeSpec(mode: ModeName): ModeSpec {
    const spec = this.contract.contract.modes[mode];
    const limit = this.options.modeLimits?.[mode];
    return limit === undefined ? spec : { ...spec, limit };
  }

  /** What a driver gets for the rollout or evaluate stage of a run. */
  private stageContext(stage: 'rollout' | 'evaluate', runId: string, mode: ModeName, redactor: Redactor): StageContext {
    const spec = this.modeSpec(mode);
    const dir = this.artifactsDir(runId);
    return {
      targetDir: this.target.dir,
      contractDir: this.contract.dir,
      artifactsDir: dir,
      logsDir: join(dir, 'logs'),
      samplesPath: join(dir, 'samples.jsonl'),
      mode,
      limit: spec.limit ?? undefined,
      seeds: spec.seeds,
      runId,
      redactor,
      signal: this.options.signal,
      log: (line) => this.log(line),
      contract: this.contract.contract,
      runnerEnv: (extra) => this.runnerEnv(stage, runId, mode, extra),
      deadline: this.deadline,
    };
  }

  /** Opens the model and runs the rollout driver; a failure to do either is the outcome's failure. */
  private async runRolloutDriver(
    options: RolloutOptions,
    runId: string,
    mode: ModeName,
  ): Promise<{ run: StageRun<DriverRollout>; model: ModelUnderTest | undefined }> {
    let model: ModelUnderTest | undefined;
    try {
      const goldLookup = await this.goldLookup();
      model = await openModel(options.llm, { baseUrl: this.options.baseUrl, apiKey: this.options.apiKey, goldLookup });
      this.openModels.push(model);
      const context = this.stageContext('rollout', runId, mode, new Redactor(model.secrets));
      const stage = this.contract.contract.stages.rollout;
      return { run: await driverFor(stage).rollout(stage, { ...context, model }), model };
    } catch (error) {
      return { run: failedRollout(error), model };
    }
  }

  async rollout(options: RolloutOptions): Promise<RolloutResult> {
    if (this.tornDown) throw new UsageError('rollout after teardown');
    const mode = options.mode ?? 'smoke';
    if (!MODE_NAMES.includes(mode)) throw new UsageError(`mode ${JSON.stringify(mode)}: expected smoke or full`);
    const runId = options.runId ?? this.runId;
    const dir = this.artifactsDir(runId);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const context = this.stageContext('rollout', runId, mode, new Redactor([]));
    // A samples file from an earlier rollout must never pass for this one's.
    await rm(context.samplesPath, { force: true });
    const started = Date.now();
    const { driver } = this.contract.contract.stages.rollout;
    const { run, model } = await this.runRolloutDriver(options, runId, mode);
    const failure =
      run.failure ??
      (options.requireSamples ? await samplesFailure(run, context, model?.canary === 'empty') : undefined);
    const stage = closeStageLog(run.log ?? emptyStageLog('rollout', driver, started), {
      driver,
      started,
      failure,
      notes: run.notes,
    });
    await writeStageLog(context.logsDir, stage);
    const modelDescription: ModelDescription = model?.description ?? describeLlm(options.llm);
    const result: RolloutResult = {
      ok: !failure,
      runId,
      mode,
      model: modelDescription,
      artifactsDir: dir,
      rolloutPath: join(dir, 'rollout.json'),
      samplesPath: context.samplesPath,
      counts: run.counts,
      failure,
      stage,
    };
    await writeRolloutFile(result, {
      target: this.target.spec,
      context,
      requireSamples: options.requireSamples,
      started,
      contract: this.contract,
      reviewed: this.reviewed,
    });
    this.rollouts.set(runId, { result, model: modelDescription, samplesSha256: await sha256File(context.samplesPath) });
    return result;
  }

  /** The evaluation of a run's rollout: the driver's, unless there is nothing trustworthy to score. */
  private async runEvaluateDriver(
    context: EvaluateStageContext,
    record: RolloutRecord | undefined,
  ): Promise<StageRun<DriverEvaluation>> {
    const refused = unevaluable(context.runId, record, await sha256File(context.samplesPath));
    if (refused) return refused;
    const stage = this.contract.contract.stages.evaluate;
    try {
      return await driverFor(stage).evaluate(stage, context);
    } catch (error) {
      return failedEvaluation(error, context.samples);
    }
  }

  async evaluate(options: { mode?: ModeName | undefined; runId?: string | undefined } = {}): Promise<EvaluateResult> {
    if (this.tornDown) throw new UsageError('evaluate after teardown');
    const runId = options.runId ?? this.runId;
    const record = this.rollouts.get(runId);
    const mode = options.mode ?? record?.result.mode ?? 'smoke';
    const dir = this.artifactsDir(runId);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const context: EvaluateStageContext = {
      ...this.stageContext('evaluate', runId, mode, new Redactor([])),
      samples: record?.result.counts.samples ?? 0,
      samplesSha256: record?.samplesSha256,
    };
    const started = Date.now();
    const { driver } = this.contract.contract.stages.evaluate;
    const evaluation = await this.runEvaluateDriver(context, record);
    const failure = evaluationFailure(evaluation, this.contract.contract.scoring.range);
    const stage = closeStageLog(evaluation.log ?? emptyStageLog('evaluate', driver, started), {
      driver,
      started,
      failure,
      notes: evaluation.notes,
    });
    await writeStageLog(context.logsDir, stage);
    const metrics = metricsFile(evaluation, {
      runId,
      mode,
      target: this.target.spec,
      record,
      contract: this.contract,
      reviewed: this.reviewed,
      failure,
    });
    const metricsPath = join(dir, 'metrics.json');
    await writeJsonAtomic(metricsPath, metrics);
    return { ok: !failure, runId, mode, score: metrics.score, metrics, metricsPath, failure, stage };
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

/** Where the run's setup is recorded: the target as resolved, and which hints its contract used. */
async function writeSetupRecords(env: TargetEnv): Promise<void> {
  const { target, contract, reviewed } = env;
  await mkdir(join(env.artifactsDir(), 'logs'), { recursive: true });
  await writeJsonAtomic(join(env.artifactsDir(), 'hints_used.json'), hintsUsed(contract, env.hints));
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
}

async function findContract(options: SetupOptions, target: ResolvedTarget): Promise<LoadedContract> {
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
  return loadContract(location.file);
}

/** Resolves the target, loads its contract, mines hints, runs bootstrap, setup and health. */
export async function setup(options: SetupOptions): Promise<TargetEnv> {
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const target = await resolveTarget(options.target, {
    cacheDir,
    offline: options.offline,
    hfEndpoint: options.hfEndpoint,
  });
  const contract = await findContract(options, target);
  const hints = await mineHints(target.dir);
  const reviewed = isReviewed(await readProvenance(contract.dir), contract.digest);
  const artifactsRoot = resolve(options.artifactsDir ?? join('results', 'targets'));
  const runId = options.runId ?? newRunId(target.slug);
  const env = new TargetEnv(target, contract, hints, reviewed, { ...options, cacheDir, artifactsRoot }, runId);
  await writeSetupRecords(env);
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
