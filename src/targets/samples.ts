import { readFile } from 'node:fs/promises';

/**
 * Samples: one JSON object per line, `prompt` and `completion` required; `id`, `index`, `reward`, `gold`,
 * `extracted` where known. Score integrity is checked here, with stable failure codes.
 */

export interface Sample {
  id?: string | undefined;
  index?: number | undefined;
  prompt: string;
  completion: string;
  reward?: number | undefined;
  gold?: string | undefined;
  extracted?: string | undefined;
  [key: string]: unknown;
}

/** Stable codes: scripts and dashboards key on these. Documented in docs/targets.md. */
export const SAMPLE_FAILURE_CODES = [
  'samples_missing',
  'samples_no_valid_lines',
  'samples_all_empty',
  'samples_too_few',
  'samples_not_from_dataset',
  'samples_not_from_model',
  'model_not_called',
] as const;
export type SampleFailureCode = (typeof SAMPLE_FAILURE_CODES)[number];

export interface SamplesRead {
  samples: Sample[];
  /** 1-based line numbers of lines that were not a JSON object with string prompt and completion. */
  invalidLines: number[];
  missing: boolean;
}

export async function readSamples(path: string): Promise<SamplesRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { samples: [], invalidLines: [], missing: true };
  }
  const samples: Sample[] = [];
  const invalidLines: number[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if (
        value &&
        typeof value === 'object' &&
        typeof value.prompt === 'string' &&
        typeof value.completion === 'string'
      )
        samples.push(value as Sample);
      else invalidLines.push(index + 1);
    } catch {
      invalidLines.push(index + 1);
    }
  }
  return { samples, invalidLines, missing: false };
}

export interface SampleCheck {
  code: SampleFailureCode;
  message: string;
}

export interface ValidateSamplesOptions {
  path: string;
  /** How many samples the mode asks for (the limit, capped by the dataset size); undefined = unknown. */
  expected?: number | undefined;
  /** Whether a sample's prompt (or id) is one the dataset holds; undefined = no dataset to check against. */
  fromDataset?: ((sample: Sample) => boolean) | undefined;
  /** What the model answered through the gateway; undefined when the driver called the model itself. */
  modelResponses?: readonly string[] | undefined;
  /** The `empty` canary: empty completions are what it is for. */
  allowEmpty?: boolean | undefined;
}

/** The first integrity failure of a samples file, or undefined when it passes. */
export function checkSamples(read: SamplesRead, options: ValidateSamplesOptions): SampleCheck | undefined {
  if (read.missing)
    return {
      code: 'samples_missing',
      message: `no samples file at ${options.path}: the rollout must write one JSON line per sample to $SKILL_EVAL_SAMPLES_PATH`,
    };
  if (read.samples.length === 0) {
    const extra =
      read.invalidLines.length > 0
        ? ` (${read.invalidLines.length} invalid, first at line ${read.invalidLines[0]})`
        : '';
    return {
      code: 'samples_no_valid_lines',
      message: `${options.path} has no line that is a JSON object with string "prompt" and "completion"${extra}`,
    };
  }
  if (!options.allowEmpty && read.samples.every((s) => s.completion.trim() === ''))
    return {
      code: 'samples_all_empty',
      message: `all ${read.samples.length} completions in ${options.path} are empty`,
    };
  if (options.expected !== undefined && read.samples.length < options.expected) {
    return {
      code: 'samples_too_few',
      message: `${read.samples.length} valid samples in ${options.path}; the mode asks for ${options.expected}`,
    };
  }
  if (options.fromDataset) {
    const foreign = read.samples.filter((s) => !options.fromDataset!(s));
    if (foreign.length > 0)
      return {
        code: 'samples_not_from_dataset',
        message: `${foreign.length} of ${read.samples.length} samples have a prompt (or id) that is not in the dataset, e.g. ${JSON.stringify(foreign[0]!.prompt.slice(0, 80))}`,
      };
  }
  if (options.modelResponses !== undefined) {
    if (options.modelResponses.length === 0)
      return {
        code: 'model_not_called',
        message: `the rollout wrote ${read.samples.length} samples but never called the model endpoint ($SKILL_EVAL_MODEL_BASE_URL)`,
      };
    const exact = new Set(options.modelResponses);
    const invented = read.samples.filter((s) => {
      // A multi-turn sample: every turn's reply must be one the model gave, and the completion their join.
      if (Array.isArray(s.replies))
        return (
          s.completion !== s.replies.join('\n') ||
          s.replies.some((reply) => typeof reply !== 'string' || (reply.trim() !== '' && !exact.has(reply)))
        );
      const completion = s.completion.trim();
      if (completion === '' || exact.has(s.completion)) return false;
      // Post-processing (a code block cut out of the answer) keeps a completion inside some response.
      return !options.modelResponses!.some((response) => response.includes(completion));
    });
    if (invented.length > 0)
      return {
        code: 'samples_not_from_model',
        message: `${invented.length} of ${read.samples.length} completions are not in any answer the model gave, e.g. ${JSON.stringify(invented[0]!.completion.slice(0, 80))}`,
      };
  }
  return undefined;
}
