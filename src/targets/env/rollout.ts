import { UsageError } from '../../errors.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import type { LoadedContract } from '../contract.js';
import type { DriverContext, DriverRollout } from '../drivers/types.js';
import type { LlmSpec, ModelDescription } from '../model.js';
import { checkSamples, readSamples } from '../samples.js';
import type { StageFailure } from '../stages.js';
import type { RolloutResult } from './types.js';

/** The rollout's pieces that are not the driver's: naming the model, failures, integrity, the rollout file. */

/** What the model is, before it is opened (opening it may fail). */
export function describeLlm(llm: LlmSpec): ModelDescription {
  if (typeof llm === 'string') return { name: llm, kind: llm === 'gold' || llm === 'empty' ? 'canary' : 'endpoint' };
  return {
    name: 'model' in llm ? llm.model : llm.serve.model,
    kind: 'baseUrl' in llm ? 'endpoint' : 'served',
  };
}

/** A rollout that threw (the model did not open, the driver broke): no samples, and why. */
export function failedRollout(error: unknown): DriverRollout {
  const message = (error as Error).message;
  const auth = /authentication/i.test(message ?? '');
  const usage = error instanceof UsageError;
  return {
    counts: { samples: 0, errors: 1, model_calls: 0 },
    notes: [],
    failure: {
      stage: 'rollout',
      code: auth ? 'model_auth' : usage ? 'usage' : 'driver_error',
      message: message ?? String(error),
      class: auth ? 'auth' : usage ? 'internal' : 'exit_code',
    },
  };
}

/** The score-integrity checks on the samples file (docs/targets.md#score-integrity); undefined when they pass. */
export async function samplesFailure(
  outcome: DriverRollout,
  context: Pick<DriverContext, 'samplesPath'>,
  allowEmpty: boolean,
): Promise<StageFailure | undefined> {
  const read = await readSamples(context.samplesPath);
  const check = checkSamples(read, {
    path: context.samplesPath,
    expected: outcome.expectedSamples,
    fromDataset: outcome.fromDataset,
    modelResponses: outcome.modelResponses,
    allowEmpty,
  });
  return check ? { stage: 'rollout', code: check.code, message: check.message, class: 'integrity' } : undefined;
}

/** `rollout.json`: the result with what it ran under (the mode's limit and seeds, the contract, the limits). */
export async function writeRolloutFile(
  result: RolloutResult,
  run: {
    target: string;
    context: Pick<DriverContext, 'limit' | 'seeds'>;
    requireSamples: boolean | undefined;
    started: number;
    contract: LoadedContract;
    reviewed: boolean;
  },
): Promise<void> {
  const { security } = run.contract.contract;
  await writeJsonAtomic(result.rolloutPath, {
    schema: 'skill-eval/target-rollout@1',
    ok: result.ok,
    run_id: result.runId,
    target: run.target,
    mode: result.mode,
    limit: run.context.limit ?? null,
    seeds: run.context.seeds,
    model: result.model,
    require_samples: run.requireSamples ?? false,
    counts: result.counts,
    samples_path: result.samplesPath,
    started_at: new Date(run.started).toISOString(),
    duration_ms: Date.now() - run.started,
    failure: result.failure,
    notes: result.stage.notes,
    contract: { file: run.contract.file, digest: run.contract.digest, reviewed: run.reviewed },
    limits: {
      network: `${security.network} (declared; not enforced for local stages)`,
      command_timeout_sec: security.command_timeout_sec,
      total_timeout_sec: security.total_timeout_sec,
    },
  });
}
