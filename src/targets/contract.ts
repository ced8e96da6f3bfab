import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type Problem, TaskFormatError } from '../errors.js';
import { describeValue, zodProblems } from '../util/problems.js';
import { driverFor, driverNames, driversRunning, isDriverName, runsStage } from './drivers/registry.js';

/**
 * The contract: how to make one benchmark target runnable. YAML, snake_case, schema version 1
 * (docs/targets.md). Paths inside it are relative to the target's root unless said otherwise.
 */

export const CONTRACT_FILE = 'contract.yaml';
/** Where a target that owns its contract keeps it. */
export const IN_TARGET_CONTRACT_DIR = '.skill-eval';

const envSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const seconds = z.number().positive();

const commandObjectSchema = z.strictObject({
  run: z.string().min(1),
  name: z.string().optional(),
  timeout_sec: seconds.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  env: envSchema.optional(),
  workdir: z.string().optional(),
});
export const commandSchema = z.union([
  z
    .string()
    .min(1)
    .transform((run) => ({ run })),
  commandObjectSchema,
]);
export type ContractCommand = z.output<typeof commandObjectSchema>;

/** Where the official scorer writes its score, and how to read it. */
const scoreSpecSchema = z
  .strictObject({
    /** File the scorer writes; `${SKILL_EVAL_…}` variables are expanded; relative to the target root. */
    file: z.string().min(1),
    /** Dotted path into a JSON (or YAML) file: `summary.pass_rate`, `results[0].score`. */
    json_path: z.string().min(1).optional(),
    /** A regex whose first group is the score, for text output. */
    regex: z.string().min(1).optional(),
    /** Dotted path of how many samples the scorer scored; must equal the rollout's sample count. */
    count_path: z.string().min(1).optional(),
    /** Divide the read value by this (100 for a percentage). */
    scale: z.number().positive().default(1),
  })
  .refine((spec) => (spec.json_path === undefined) !== (spec.regex === undefined), {
    message: 'give exactly one of json_path or regex',
    path: ['json_path'],
  });
export type ScoreSpec = z.output<typeof scoreSpecSchema>;

/** A dataset the rollout's samples must come from (score integrity: `samples_not_from_dataset`). */
const sampleSourceSchema = z.strictObject({
  file: z.string().min(1),
  id_field: z.string().optional(),
  prompt_field: z.string().optional(),
});

const commandStageSchema = z.strictObject({
  driver: z.literal('command'),
  commands: z.array(commandSchema).min(1),
  timeout_sec: seconds.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  env: envSchema.optional(),
  workdir: z.string().optional(),
  /** evaluate only: the official scorer's output. */
  score: scoreSpecSchema.optional(),
  /** rollout only: where the samples' prompts or ids come from. */
  dataset: sampleSourceSchema.optional(),
});

const extractorSchema = z.discriminatedUnion('type', [
  z.strictObject({
    name: z.string().min(1),
    type: z.literal('regex'),
    pattern: z.string().min(1),
    group: z.number().int().min(0).default(1),
    select: z.enum(['first', 'last']).default('first'),
  }),
  z.strictObject({ name: z.string().min(1), type: z.literal('last_number') }),
  z.strictObject({ name: z.string().min(1), type: z.literal('boxed') }),
]);
export type ExtractorSpec = z.output<typeof extractorSchema>;

export const GSM8K_STRICT_PATTERN = '#### (\\-?[0-9\\.\\,]+)';
const defaultExtractors: ExtractorSpec[] = [
  { name: 'strict', type: 'regex', pattern: GSM8K_STRICT_PATTERN, group: 1, select: 'first' },
  { name: 'flexible', type: 'last_number' },
];

const qaParamsSchema = z.strictObject({
  /** A file or glob (relative to the target root) of .jsonl / .json / .parquet files, read in name order. */
  dataset: z.string().min(1),
  question_field: z.string().min(1).default('question'),
  answer_field: z.string().min(1).default('answer'),
  id_field: z.string().min(1).optional(),
  /** `{field}` placeholders are filled from the row. */
  prompt: z.string().min(1).default('Question: {question}\nAnswer:'),
  system: z.string().optional(),
  /** How the gold answer is read from `answer_field`: `gsm8k` = the number after `####`, commas stripped. */
  gold: z.enum(['gsm8k', 'raw', 'boxed']).default('gsm8k'),
  extractors: z.array(extractorSchema).min(1).default(defaultExtractors),
  normalize: z.enum(['numeric', 'text', 'none']).default('numeric'),
  max_tokens: z.number().int().positive().default(512),
  temperature: z.number().min(0).max(2).default(0),
  /** Requests in flight at once against the model endpoint. */
  concurrency: z.number().int().min(1).max(256).default(8),
  request_timeout_sec: seconds.default(120),
  /** What the `gold` canary answers; `{gold}` is the gold answer. */
  gold_template: z.string().default('The answer is {gold}.\n#### {gold}'),
});
export type QaParams = z.output<typeof qaParamsSchema>;

const browserEpisodeSchema = z.strictObject({
  /** A page under the target root, served by a local static server; `{seed}` is the episode's seed. */
  page: z.string().min(1),
  utterance: z.string().optional(),
  id: z.string().optional(),
  /** The row of metrics.json's per-task breakdown this episode counts in; default: the page's path. */
  group: z.string().min(1).optional(),
  /** The actions the `gold` canary answers with. */
  gold: z.array(z.record(z.string(), z.unknown())).optional(),
});
const browserEvidenceSchema = z.strictObject({
  /** A Playwright trace (trace.zip) per episode, removed when larger than max_bytes. */
  trace: z.boolean().default(false),
  /** A screenshot after each step (step-<n>.png), until the episode's evidence reaches max_bytes. */
  screenshots: z.boolean().default(false),
  max_bytes: z.number().int().positive().default(20_000_000),
});
const browserParamsSchema = z.strictObject({
  episodes: z.array(browserEpisodeSchema).min(1),
  /** Page expressions (JavaScript, evaluated in the page); `{seed}` is replaced by the episode's seed. */
  ready: z.string().min(1).default('true'),
  start: z.string().optional(),
  utterance: z.string().optional(),
  done: z.string().min(1),
  reward: z.string().min(1),
  /** A page expression read at the end of the episode: truthy = success. Default: reward > success_above. */
  success: z.string().min(1).optional(),
  success_above: z.number().default(0),
  max_steps: z.number().int().min(1).max(50).default(5),
  episode_timeout_sec: seconds.default(60),
  executable_path: z.string().default('/usr/bin/chromium'),
  max_tokens: z.number().int().positive().default(512),
  temperature: z.number().min(0).max(2).default(0),
  viewport: z
    .strictObject({ width: z.number().int().positive(), height: z.number().int().positive() })
    .default({ width: 800, height: 600 }),
  /** What the model gets each step: the element list and text, a screenshot, or both. */
  observation: z.enum(['dom', 'screenshot', 'both']).default('dom'),
  /** Episodes in flight at once, each in its own context of one browser. */
  concurrency: z.number().int().min(1).max(32).default(2),
  /** Pause after each step's actions for the page to react, in ms. */
  settle_ms: z.number().int().min(0).max(10_000).default(50),
  evidence: browserEvidenceSchema.default({ trace: false, screenshots: false, max_bytes: 20_000_000 }),
});
export type BrowserParams = z.output<typeof browserParamsSchema>;

const qaStageSchema = z.strictObject({ driver: z.literal('qa'), with: qaParamsSchema.optional() });
const browserStageSchema = z.strictObject({ driver: z.literal('browser'), with: browserParamsSchema.optional() });

// One shape per driver of the registry (drivers/registry.ts), which implements them.
const stageSchema = z.discriminatedUnion('driver', [commandStageSchema, qaStageSchema, browserStageSchema]);
export type CommandStage = z.output<typeof commandStageSchema>;
export type Stage = z.output<typeof stageSchema>;
export type DriverName = Stage['driver'];

export const STAGE_NAMES = ['setup', 'health', 'rollout', 'evaluate', 'teardown'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

const modeSchema = z.strictObject({
  /** Samples to run; `null` or absent in `full` means every row. */
  limit: z.number().int().positive().nullable().optional(),
  seeds: z.array(z.number().int()).min(1).default([0]),
});
export type ModeSpec = z.output<typeof modeSchema>;
export const MODE_NAMES = ['smoke', 'full'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

const contractSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  modes: z
    .strictObject({ smoke: modeSchema.optional(), full: modeSchema.optional() })
    .default({})
    .transform((modes) => ({
      smoke: modes.smoke ?? { limit: 10, seeds: [0] },
      full: modes.full ?? { limit: undefined, seeds: [0] },
    })),
  scoring: z.strictObject({
    primary_metric: z.string().min(1),
    range: z.tuple([z.number(), z.number()]).default([0, 1]),
    kind: z.enum(['model_eval', 'repo_tests']),
    official: z.boolean().default(false),
    higher_is_better: z.boolean().default(true),
  }),
  security: z
    .strictObject({
      command_timeout_sec: seconds.default(900),
      total_timeout_sec: seconds.default(4 * 3600),
      network: z.enum(['any', 'loopback', 'none']).default('any'),
    })
    .default({ command_timeout_sec: 900, total_timeout_sec: 4 * 3600, network: 'any' }),
  bootstrap: z
    .strictObject({
      commands: z.array(commandSchema).min(1),
      /** Files (relative to the target root) whose content, with the commands, keys the cache. */
      key_files: z.array(z.string().min(1)).default([]),
      timeout_sec: seconds.optional(),
    })
    .optional(),
  /** Score-integrity bounds checked with the canary models. */
  canary: z
    .strictObject({
      empty_max: z.number().default(0),
      /** JSONL of `{match, completion}`: the `gold` canary answers `completion` to a prompt containing `match`. */
      gold_file: z.string().optional(),
    })
    .default({ empty_max: 0 }),
  stages: z.strictObject({
    setup: stageSchema.optional(),
    health: stageSchema.optional(),
    rollout: stageSchema,
    evaluate: stageSchema,
    teardown: stageSchema.optional(),
  }),
});
export type Contract = z.output<typeof contractSchema>;

export interface LoadedContract {
  contract: Contract;
  /** Absolute path of contract.yaml. */
  file: string;
  /** The directory holding it: scripts beside the contract live here (`SKILL_EVAL_CONTRACT_DIR`). */
  dir: string;
  /** sha256 of the file's bytes, for provenance and review. */
  digest: string;
}

/** Stages given as a bare list of commands, or as a mapping without `driver`, are `command` stages. */
function normaliseStages(document: unknown): { data: unknown; problems: Problem[]; file: string } {
  const problems: Problem[] = [];
  if (!document || typeof document !== 'object' || Array.isArray(document))
    return { data: document, problems, file: '' };
  const stages = (document as Record<string, unknown>).stages;
  if (!stages || typeof stages !== 'object' || Array.isArray(stages)) return { data: document, problems, file: '' };
  const normalised: Record<string, unknown> = {};
  for (const [name, stage] of Object.entries(stages as Record<string, unknown>)) {
    if (Array.isArray(stage)) normalised[name] = { driver: 'command', commands: stage };
    else if (stage && typeof stage === 'object' && !('driver' in stage))
      normalised[name] = { driver: 'command', ...stage };
    else if (stage && typeof stage === 'object' && !isDriverName((stage as { driver: unknown }).driver)) {
      problems.push({
        file: '',
        key: `stages.${name}.driver`,
        message: 'unknown driver',
        expected: `one of ${driverNames().join(', ')}`,
        found: describeValue((stage as { driver: unknown }).driver),
        severity: 'error',
      });
      normalised[name] = stage;
    } else normalised[name] = stage;
  }
  return { data: { ...(document as Record<string, unknown>), stages: normalised }, problems, file: '' };
}

/** Checks across fields that a schema cannot express. */
function crossCheck(contract: Contract, file: string): Problem[] {
  const problems: Problem[] = [];
  const { rollout, evaluate } = contract.stages;
  if (rollout.driver === 'qa' && !rollout.with)
    problems.push({
      file,
      key: 'stages.rollout.with',
      message: 'the qa driver needs its parameters in the rollout stage',
      expected: 'a mapping with at least `dataset`',
      found: describeValue(undefined),
      severity: 'error',
    });
  if (rollout.driver === 'browser' && !rollout.with)
    problems.push({
      file,
      key: 'stages.rollout.with',
      message: 'the browser driver needs its parameters in the rollout stage',
      expected: 'a mapping with `episodes`, `done`, `reward`',
      found: describeValue(undefined),
      severity: 'error',
    });
  if ((evaluate.driver === 'qa' || evaluate.driver === 'browser') && evaluate.driver !== rollout.driver) {
    problems.push({
      file,
      key: 'stages.evaluate.driver',
      message: `the ${evaluate.driver} driver scores what its own rollout produced`,
      expected: `stages.rollout.driver: ${evaluate.driver}`,
      found: rollout.driver,
      severity: 'error',
    });
  }
  if (evaluate.driver === 'command' && !evaluate.score) {
    problems.push({
      file,
      key: 'stages.evaluate.score',
      message: 'a command evaluate stage must name the file its scorer writes (a score never comes from an exit code)',
      expected: 'score: {file, json_path | regex}',
      found: describeValue(undefined),
      severity: 'error',
    });
  }
  for (const name of STAGE_NAMES) {
    const stage = contract.stages[name];
    if (stage?.driver === 'command' && stage.score && name !== 'evaluate')
      problems.push({
        file,
        key: `stages.${name}.score`,
        message: 'only the evaluate stage has a score',
        expected: 'no score here',
        found: 'a score spec',
        severity: 'error',
      });
    const driver = stage && driverFor(stage);
    if (stage && driver?.stages && !runsStage(driver, name)) {
      problems.push({
        file,
        key: `stages.${name}.driver`,
        message: `the ${stage.driver} driver runs only in ${driver.stages.join(' and ')}`,
        expected: driversRunning(name).join(', '),
        found: stage.driver,
        severity: 'error',
      });
    }
  }
  const metrics = primaryMetricsFor(contract);
  if (metrics && !metrics.includes(contract.scoring.primary_metric)) {
    problems.push({
      file,
      key: 'scoring.primary_metric',
      message: 'not a metric this contract produces',
      expected: `one of ${metrics.join(', ')}`,
      found: JSON.stringify(contract.scoring.primary_metric),
      severity: 'error',
    });
  }
  const [low, high] = contract.scoring.range;
  if (!(low < high))
    problems.push({
      file,
      key: 'scoring.range',
      message: 'the range must be [low, high] with low < high',
      expected: '[0, 1]',
      found: JSON.stringify(contract.scoring.range),
      severity: 'error',
    });
  for (const [name, stage] of Object.entries(contract.stages)) {
    if (stage?.driver !== 'qa' || !stage.with) continue;
    const names = stage.with.extractors.map((e) => e.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate)
      problems.push({
        file,
        key: `stages.${name}.with.extractors`,
        message: 'extractor names must be unique',
        expected: 'distinct names',
        found: JSON.stringify(duplicate),
        severity: 'error',
      });
    for (const [index, extractor] of stage.with.extractors.entries()) {
      if (extractor.type !== 'regex') continue;
      try {
        new RegExp(extractor.pattern);
      } catch (error) {
        problems.push({
          file,
          key: `stages.${name}.with.extractors[${index}].pattern`,
          message: 'not a valid regular expression',
          expected: 'a JavaScript regex',
          found: `${JSON.stringify(extractor.pattern)} (${(error as Error).message})`,
          severity: 'error',
        });
      }
    }
  }
  return problems;
}

/**
 * Problems a contract's schema cannot see: files it names that the target does not hold (a browser
 * episode's page, its query and `{seed}` aside). `target validate` reports them with the schema's.
 */
export async function targetFileProblems(contract: Contract, targetDir: string, file: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [name, stage] of Object.entries(contract.stages)) {
    if (stage?.driver !== 'browser' || !stage.with) continue;
    // evaluate: {driver: browser} reuses the rollout's parameters: one report is enough.
    const { rollout } = contract.stages;
    if (name === 'evaluate' && rollout.driver === 'browser' && stage.with === rollout.with) continue;
    for (const [index, episode] of stage.with.episodes.entries()) {
      const path = episode.page.replaceAll('{seed}', '0').split(/[?#]/)[0]!.replace(/^\/+/, '');
      const absolute = resolve(targetDir, path.endsWith('/') || path === '' ? `${path}index.html` : path);
      if (await isFile(absolute)) continue;
      problems.push({
        file,
        key: `stages.${name}.with.episodes[${index}].page`,
        message: 'no such page under the target root',
        expected: 'a file the static server can serve',
        found: JSON.stringify(episode.page),
        severity: 'error',
      });
    }
  }
  return problems;
}

/** The metric names a driver produces (`exact_match_<extractor>` for qa); undefined when the scorer decides. */
export function primaryMetricsFor(contract: Contract): string[] | undefined {
  const { rollout } = contract.stages;
  return driverFor(rollout).primaryMetrics?.(rollout);
}

/** Parses and validates contract text. Throws TaskFormatError listing every problem with file and key. */
export function parseContract(text: string, file: string): Contract {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new TaskFormatError(
      document.errors.map((error) => ({
        file,
        message: `YAML syntax: ${error.message.split('\n')[0]}`,
        expected: 'valid YAML',
        found: `line ${error.linePos?.[0]?.line ?? '?'}`,
        severity: 'error' as const,
      })),
    );
  }
  const raw: unknown = document.toJS();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TaskFormatError([
      {
        file,
        message: 'a contract is a YAML mapping',
        expected: 'keys version, scoring, stages…',
        found: describeValue(raw),
        severity: 'error',
      },
    ]);
  }
  const { data, problems } = normaliseStages(raw);
  const located = problems.map((p) => ({ ...p, file }));
  if (located.length > 0) throw new TaskFormatError(located);
  const parsed = contractSchema.safeParse(data);
  if (!parsed.success) throw new TaskFormatError(zodProblems(parsed.error, file, data));
  const crossProblems = crossCheck(parsed.data, file);
  if (crossProblems.length > 0) throw new TaskFormatError(crossProblems);
  // evaluate: {driver: qa} without parameters scores with the rollout's parameters.
  const { rollout, evaluate } = parsed.data.stages;
  if (evaluate.driver === 'qa' && !evaluate.with && rollout.driver === 'qa') evaluate.with = rollout.with;
  if (evaluate.driver === 'browser' && !evaluate.with && rollout.driver === 'browser') evaluate.with = rollout.with;
  return parsed.data;
}

export async function loadContract(file: string): Promise<LoadedContract> {
  const absolute = resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw new TaskFormatError([
      {
        file: absolute,
        message: 'cannot read the contract',
        expected: 'a readable contract.yaml',
        found: (error as NodeJS.ErrnoException).code ?? String(error),
        severity: 'error',
      },
    ]);
  }
  const contract = parseContract(bytes.toString('utf8'), absolute);
  return { contract, file: absolute, dir: dirname(absolute), digest: createHash('sha256').update(bytes).digest('hex') };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export interface ContractLocation {
  /** Where the contract is or would be. */
  file: string;
  dir: string;
  exists: boolean;
  source: 'explicit' | 'contracts-dir' | 'in-target';
}

/**
 * Finds a target's contract: an explicit file, else `<contracts-dir>/<slug>/contract.yaml`, else
 * `<target>/.skill-eval/contract.yaml`. When none exists, the location to write one is the contracts dir
 * when given (targets you don't own), else inside the target.
 */
export async function locateContract(options: {
  targetDir: string;
  slug: string;
  contractsDir?: string | undefined;
  contractFile?: string | undefined;
}): Promise<ContractLocation> {
  if (options.contractFile) {
    const file = resolve(options.contractFile);
    return { file, dir: dirname(file), exists: await isFile(file), source: 'explicit' };
  }
  if (options.contractsDir) {
    const file = join(resolve(options.contractsDir), options.slug, CONTRACT_FILE);
    if (await isFile(file)) return { file, dir: dirname(file), exists: true, source: 'contracts-dir' };
  }
  const inTarget = join(options.targetDir, IN_TARGET_CONTRACT_DIR, CONTRACT_FILE);
  if (await isFile(inTarget)) return { file: inTarget, dir: dirname(inTarget), exists: true, source: 'in-target' };
  if (options.contractsDir) {
    const file = join(resolve(options.contractsDir), options.slug, CONTRACT_FILE);
    return { file, dir: dirname(file), exists: false, source: 'contracts-dir' };
  }
  return { file: inTarget, dir: dirname(inTarget), exists: false, source: 'in-target' };
}
