import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../file-digest.js';
import { ModelGateway, type ModelUnderTest } from '../model.js';
import { readSamples } from '../samples.js';
import { type CommandStageContext, runCommandStage, type StageLog } from '../stages.js';
import { commandDatasetCheck, fileState, readOfficialScore, scoreFilePath } from './command-score.js';
import type {
  Driver,
  DriverEvaluation,
  DriverRollout,
  EvaluateStageContext,
  RolloutStageContext,
  StageContext,
  StageOf,
  StageRun,
} from './types.js';

/**
 * The command driver: the target's own scripts. Rollout runs them against a local gateway to the model
 * under test (so every model call is seen and logged); evaluate runs the official scorer and reads the score
 * file it wrote (command-score.ts).
 */

type CommandStage = StageOf<'command'>;

function commandContext(stage: string, context: StageContext, env: Record<string, string>): CommandStageContext {
  return {
    stage,
    targetDir: context.targetDir,
    env,
    logsDir: context.logsDir,
    redactor: context.redactor,
    defaultTimeoutSec: context.contract.security.command_timeout_sec,
    deadline: context.deadline,
    signal: context.signal,
    log: context.log,
  };
}

/** Runs the rollout commands with the model behind a gateway; the calls it saw go to model_calls.jsonl. */
async function runThroughGateway(
  stage: CommandStage,
  context: RolloutStageContext,
): Promise<{ log: StageLog; gateway: ModelGateway }> {
  const gateway = new ModelGateway(context.model);
  const baseUrl = await gateway.start();
  let log: StageLog;
  try {
    const env = context.runnerEnv({
      SKILL_EVAL_MODEL_BASE_URL: baseUrl,
      SKILL_EVAL_MODEL: context.model.description.name,
      SKILL_EVAL_MODEL_API_KEY: gateway.token,
      OPENAI_BASE_URL: baseUrl,
      OPENAI_API_KEY: gateway.token,
    });
    log = await runCommandStage(stage, commandContext('rollout', context, env));
  } finally {
    await gateway.close();
  }
  await appendFile(
    join(context.artifactsDir, 'model_calls.jsonl'),
    gateway.calls.map((call) => context.redactor.redact(JSON.stringify(call))).join('\n') +
      (gateway.calls.length > 0 ? '\n' : ''),
  );
  return { log, gateway };
}

/** Every call of a real model failed while the commands succeeded: the samples cannot be the model's. */
function everyCallFailed(model: ModelUnderTest, gateway: ModelGateway): DriverRollout['failure'] {
  const failedCalls = gateway.calls.filter((call) => call.error !== undefined);
  if (model.canary !== undefined || failedCalls.length === 0 || failedCalls.length !== gateway.calls.length)
    return undefined;
  const auth = failedCalls.some((c) => /authentication/i.test(c.error ?? ''));
  return {
    stage: 'rollout',
    code: auth ? 'model_auth' : 'model_error',
    message: `every model call failed, e.g. ${failedCalls[0]!.error}`,
    class: auth ? 'auth' : 'network',
  };
}

async function commandRollout(stage: CommandStage, context: RolloutStageContext): Promise<StageRun<DriverRollout>> {
  const { log, gateway } = await runThroughGateway(stage, context);
  const read = await readSamples(context.samplesPath);
  const errors = gateway.calls.filter((call) => call.error !== undefined).length;
  return {
    log,
    counts: { samples: read.samples.length, errors, model_calls: gateway.calls.length },
    expectedSamples: context.limit,
    fromDataset: await commandDatasetCheck(stage, context.targetDir),
    // Completions must be what the model said.
    modelResponses: gateway.calls.filter((c) => c.error === undefined).map((c) => c.response),
    failure: log.failure ?? everyCallFailed(context.model, gateway),
    notes: read.invalidLines.length > 0 ? [`${read.invalidLines.length} invalid sample lines`] : [],
  };
}

function unscored(samples: number, failure: DriverEvaluation['failure'], log: StageLog): StageRun<DriverEvaluation> {
  return { log, metrics: {}, counts: { samples }, scoreSource: 'none', notes: [], failure };
}

/** Runs the scorer, then reads the score file it wrote; the samples must be the ones the rollout wrote. */
async function commandEvaluate(
  stage: CommandStage,
  context: EvaluateStageContext,
): Promise<StageRun<DriverEvaluation>> {
  const env = context.runnerEnv();
  const scorePath = scoreFilePath(stage.score!, context.targetDir, env);
  const before = await fileState(scorePath);
  const log = await runCommandStage(stage, commandContext('evaluate', context, env));
  const { samples, samplesSha256 } = context;
  if (!log.ok) return unscored(samples, log.failure, log);
  if (samplesSha256 !== (await sha256File(context.samplesPath)))
    return unscored(
      samples,
      {
        stage: 'evaluate',
        code: 'samples_changed',
        message: 'the evaluate stage rewrote the samples the rollout produced: the score would not be of them',
        class: 'integrity',
      },
      log,
    );
  const { scoring } = context.contract;
  const reading = await readOfficialScore({
    spec: stage.score!,
    path: scorePath,
    before,
    range: scoring.range,
    samples: samplesSha256 ? samples : undefined,
    targetDir: context.targetDir,
  });
  const count = reading.count ?? samples;
  const proportion = reading.score !== undefined && scoring.range[0] === 0 && scoring.range[1] === 1;
  return {
    log,
    score: reading.score,
    metrics: reading.score !== undefined ? { [scoring.primary_metric]: reading.score } : {},
    counts: { samples, scored: reading.count },
    scoreSource: reading.source,
    successes: proportion && count > 0 ? Math.round(reading.score! * count) : undefined,
    failure: reading.failure,
    notes: [],
  };
}

export const commandDriver: Driver<'command'> = {
  name: 'command',
  run: runCommandStage,
  rollout: commandRollout,
  evaluate: commandEvaluate,
};
