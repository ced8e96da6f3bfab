import { writeFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { InfraError, type SkillEvalError, UsageError } from '../../errors.js';
import type { QaParams } from '../contract.js';
import { loadDataset, type Row } from '../dataset.js';
import { answersMatch, extractAnswer, gsm8kGold, lastBoxed, renderTemplate, templateFields } from '../extract.js';
import type { ChatMessage } from '../model.js';
import { readSamples, type Sample } from '../samples.js';
import type { Driver, DriverContext, DriverEvaluation, DriverRollout, RolloutContext } from './types.js';

/**
 * The qa driver: a question file (JSONL, JSON, Parquet), a prompt template, answer extractors and
 * numeric normalisation. Rollout asks the model every question; evaluate extracts and compares, with
 * every extractor reported side by side (GSM8K: strict `#### N` and flexible last number).
 */

export function goldOf(row: Row, params: QaParams): string | undefined {
  const raw = row[params.answer_field];
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === 'string' ? raw : String(raw);
  if (params.gold === 'gsm8k') return gsm8kGold(text);
  if (params.gold === 'boxed') return lastBoxed(text);
  return text.trim();
}

export interface QaDataset {
  rows: Row[];
  files: string[];
  prompts: string[];
  golds: (string | undefined)[];
  /** Prompt → first row index with that prompt. */
  byPrompt: Map<string, number>;
}

const cache = new Map<string, Promise<QaDataset>>();

/** Loads and renders the dataset once per target and parameters (rollout and evaluate share it). */
export function loadQaDataset(targetDir: string, params: QaParams): Promise<QaDataset> {
  const key = JSON.stringify([targetDir, params.dataset, params.prompt, params.answer_field, params.gold]);
  let loading = cache.get(key);
  if (!loading) {
    loading = (async () => {
      const { rows, files } = await loadDataset(targetDir, params.dataset);
      const fields = templateFields(params.prompt);
      const first = rows[0];
      if (first) {
        const missing = [...fields, params.answer_field].filter((field) => !(field in first));
        if (missing.length > 0)
          throw new UsageError(
            `dataset ${files[0]}: the first row has no field ${missing.map((m) => JSON.stringify(m)).join(', ')}`,
            {
              hint: `its fields: ${Object.keys(first).join(', ')}; set question_field/answer_field/prompt in the qa driver's parameters`,
            },
          );
      }
      const prompts = rows.map((row) => renderTemplate(params.prompt, row));
      const golds = rows.map((row) => goldOf(row, params));
      const byPrompt = new Map<string, number>();
      prompts.forEach((prompt, index) => {
        if (!byPrompt.has(prompt)) byPrompt.set(prompt, index);
      });
      return { rows, files, prompts, golds, byPrompt };
    })();
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return loading;
}

function rowId(row: Row, index: number, params: QaParams): string {
  const value = params.id_field ? row[params.id_field] : undefined;
  return value === undefined || value === null ? String(index) : String(value);
}

export async function qaRollout(params: QaParams, context: RolloutContext): Promise<DriverRollout> {
  const dataset = await loadQaDataset(context.targetDir, params);
  const count = context.limit === undefined ? dataset.rows.length : Math.min(context.limit, dataset.rows.length);
  const jobs: { index: number; seed: number }[] = [];
  for (const seed of context.seeds) for (let index = 0; index < count; index++) jobs.push({ index, seed });
  const limit = pLimit(context.model.canary ? 64 : params.concurrency);
  let errors = 0;
  let fatal: SkillEvalError | undefined;
  const samples = await Promise.all(
    jobs.map(({ index, seed }) =>
      limit(async (): Promise<Sample> => {
        const prompt = dataset.prompts[index]!;
        const gold = dataset.golds[index];
        const base: Sample = {
          id: rowId(dataset.rows[index]!, index, params),
          index,
          seed,
          prompt,
          completion: '',
          gold,
        };
        if (fatal) return { ...base, error: 'skipped after a fatal model error' };
        const messages: ChatMessage[] = params.system
          ? [
              { role: 'system', content: params.system },
              { role: 'user', content: prompt },
            ]
          : [{ role: 'user', content: prompt }];
        try {
          const completion = await context.model.complete(messages, {
            maxTokens: params.max_tokens,
            temperature: params.temperature,
            seed,
            timeoutMs: params.request_timeout_sec * 1000,
            signal: context.signal,
            gold: gold === undefined ? undefined : renderTemplate(params.gold_template, { gold }),
          });
          return { ...base, completion };
        } catch (error) {
          errors++;
          if (error instanceof InfraError && !error.retryable) fatal ??= error;
          if (error instanceof UsageError) fatal ??= error;
          return { ...base, error: (error as Error).message };
        }
      }),
    ),
  );
  await writeFile(
    context.samplesPath,
    samples.map((s) => context.redactor.redact(JSON.stringify(s))).join('\n') + (samples.length > 0 ? '\n' : ''),
  );
  const result: DriverRollout = {
    counts: {
      samples: samples.length,
      dataset_rows: dataset.rows.length,
      errors,
      model_calls: context.model.canary ? 0 : samples.length,
    },
    expectedSamples: count * context.seeds.length,
    fromDataset: (sample) => dataset.byPrompt.has(sample.prompt),
    notes: [`dataset: ${dataset.files.join(', ')} (${dataset.rows.length} rows)`],
  };
  if (fatal) {
    const auth = /authentication/i.test(fatal.message);
    result.failure = {
      stage: 'rollout',
      code: auth ? 'model_auth' : 'model_error',
      message: fatal.message,
      class: auth ? 'auth' : 'network',
    };
  } else if (samples.length > 0 && errors === samples.length) {
    result.failure = {
      stage: 'rollout',
      code: 'model_error',
      message: `every request to the model failed, e.g. ${String(samples[0]!.error)}`,
      class: 'network',
    };
  }
  return result;
}

export async function qaEvaluate(
  params: QaParams,
  primaryMetric: string,
  context: DriverContext,
): Promise<DriverEvaluation> {
  const dataset = await loadQaDataset(context.targetDir, params);
  const read = await readSamples(context.samplesPath);
  if (read.missing || read.samples.length === 0) {
    return {
      metrics: {},
      counts: { samples: 0 },
      scoreSource: 'driver:qa',
      notes: [],
      failure: {
        stage: 'evaluate',
        code: read.missing ? 'samples_missing' : 'samples_no_valid_lines',
        message: `nothing to score in ${context.samplesPath}`,
        class: 'integrity',
      },
    };
  }
  const correct = new Map(params.extractors.map((e) => [e.name, 0]));
  let notFromDataset = 0;
  const scored = read.samples.map((sample) => {
    // The gold answer comes from the dataset, never from the sample line.
    const index =
      typeof sample.index === 'number' && dataset.prompts[sample.index] === sample.prompt
        ? sample.index
        : dataset.byPrompt.get(sample.prompt);
    const gold = index === undefined ? undefined : dataset.golds[index];
    if (index === undefined) notFromDataset++;
    const extractedBy: Record<string, string | null> = {};
    const correctBy: Record<string, boolean> = {};
    for (const extractor of params.extractors) {
      const extracted = extractAnswer(sample.completion, extractor);
      const ok = answersMatch(extracted, gold, params.normalize);
      extractedBy[extractor.name] = extracted ?? null;
      correctBy[extractor.name] = ok;
      if (ok) correct.set(extractor.name, correct.get(extractor.name)! + 1);
    }
    const primaryName = primaryMetric.replace(/^exact_match_/, '');
    return {
      ...sample,
      gold: gold ?? null,
      extracted: extractedBy[primaryName] ?? null,
      extracted_by: extractedBy,
      correct: correctBy,
      reward: correctBy[primaryName] ? 1 : 0,
    };
  });
  await writeFile(context.samplesPath, `${scored.map((s) => context.redactor.redact(JSON.stringify(s))).join('\n')}\n`);
  const n = scored.length;
  const metrics: Record<string, number> = {};
  for (const [name, value] of correct) metrics[`exact_match_${name}`] = value / n;
  const successes = correct.get(primaryMetric.replace(/^exact_match_/, '')) ?? 0;
  const notes = notFromDataset > 0 ? [`${notFromDataset} samples have a prompt not in the dataset: scored 0`] : [];
  return {
    score: metrics[primaryMetric],
    metrics,
    counts: { samples: n, correct: successes, not_from_dataset: notFromDataset },
    scoreSource: 'driver:qa',
    successes,
    notes,
  };
}

export const qaDriver: Driver<'qa'> = {
  name: 'qa',
  stages: ['rollout', 'evaluate'],
  primaryMetrics: (stage) => stage.with?.extractors.map((e) => `exact_match_${e.name}`),
  rollout: (stage, context) => qaRollout(stage.with!, context),
  evaluate: (stage, context) => qaEvaluate(stage.with!, context.contract.scoring.primary_metric, context),
};
