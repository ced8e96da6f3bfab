import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { TaskFormatError } from '../errors.js';
import { describeValue, zodProblems } from '../util/problems.js';
import { parseContract } from './contract.js';
import { classifyCommand } from './hints.js';

/**
 * Imports the Python runner's `pipeline.yml` (version 1) into a contract. The mapping
 * (docs/targets.md#importing-pipelineyml-v1):
 *
 *   setup[] / teardown[]            → stages.setup / stages.teardown commands
 *   stages[] (role or name)         → stages.rollout (generate/infer/rollout) and stages.evaluate (score/eval)
 *   run, timeout, retries, env, cwd → run, timeout_sec, retries, env, workdir
 *   modes.{smoke,full}.{limit,seeds}→ modes
 *   scoring.{metric,results_file,key|regex,count_key,scale,kind,official} → scoring + stages.evaluate.score
 *   $MODEL $BASE_URL $API_KEY $OUTPUT_DIR $LIMIT $SAMPLES $MODE $SEED → runner variables
 */

const commandSchema = z.union([
  z.string().min(1),
  z.strictObject({
    run: z.string().min(1),
    name: z.string().optional(),
    timeout: z.number().positive().optional(),
    retries: z.number().int().min(0).optional(),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    cwd: z.string().optional(),
  }),
]);

const stageSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(['rollout', 'evaluate', 'setup', 'teardown']).optional(),
  run: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  timeout: z.number().positive().optional(),
  retries: z.number().int().min(0).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  cwd: z.string().optional(),
});

const pipelineSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().optional(),
  description: z.string().optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  setup: z.array(commandSchema).optional(),
  teardown: z.array(commandSchema).optional(),
  stages: z.array(stageSchema).min(1),
  modes: z
    .record(
      z.enum(['smoke', 'full']),
      z.strictObject({
        limit: z.number().int().positive().nullable().optional(),
        seeds: z.array(z.number().int()).optional(),
      }),
    )
    .optional(),
  scoring: z.strictObject({
    metric: z.string().min(1),
    results_file: z.string().min(1),
    key: z.string().min(1).optional(),
    regex: z.string().min(1).optional(),
    count_key: z.string().min(1).optional(),
    scale: z.number().positive().optional(),
    kind: z.enum(['model_eval', 'repo_tests']).default('model_eval'),
    official: z.boolean().default(true),
  }),
  timeout: z.number().positive().optional(),
});

/** The v1 runner's variables and placeholders, and what they are called here. */
export const VARIABLE_MAP: Record<string, string> = {
  MODEL: 'SKILL_EVAL_MODEL',
  MODEL_NAME: 'SKILL_EVAL_MODEL',
  BASE_URL: 'SKILL_EVAL_MODEL_BASE_URL',
  MODEL_BASE_URL: 'SKILL_EVAL_MODEL_BASE_URL',
  API_KEY: 'SKILL_EVAL_MODEL_API_KEY',
  OUTPUT_DIR: 'SKILL_EVAL_ARTIFACTS_DIR',
  RUN_DIR: 'SKILL_EVAL_ARTIFACTS_DIR',
  LIMIT: 'SKILL_EVAL_LIMIT',
  SAMPLES: 'SKILL_EVAL_SAMPLES_PATH',
  SAMPLES_PATH: 'SKILL_EVAL_SAMPLES_PATH',
  MODE: 'SKILL_EVAL_MODE',
  SEED: 'SKILL_EVAL_SEEDS',
  RUN_ID: 'SKILL_EVAL_RUN_ID',
};

/** `$OUTPUT_DIR`, `${OUTPUT_DIR}` and `{output_dir}` → `${SKILL_EVAL_ARTIFACTS_DIR}`; others unchanged. */
export function mapVariables(text: string): string {
  return text
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
      const mapped = VARIABLE_MAP[braced ?? bare!];
      return mapped ? `\${${mapped}}` : whole;
    })
    .replace(/\{(\w+)\}/g, (whole, name: string) => {
      const mapped = VARIABLE_MAP[name.toUpperCase()];
      return mapped ? `\${${mapped}}` : whole;
    });
}

type Command = { run: string; timeout_sec?: number; retries?: number; env?: Record<string, string>; workdir?: string };

function mapEnv(env: Record<string, string | number | boolean> | undefined): Record<string, string> | undefined {
  return env ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, mapVariables(String(v))])) : undefined;
}

function mapCommand(command: z.output<typeof commandSchema>): Command {
  if (typeof command === 'string') return { run: mapVariables(command) };
  return {
    run: mapVariables(command.run),
    timeout_sec: command.timeout,
    retries: command.retries,
    env: mapEnv(command.env),
    workdir: command.cwd,
  };
}

function roleOf(stage: z.output<typeof stageSchema>): 'rollout' | 'evaluate' | 'setup' | 'teardown' {
  if (stage.role) return stage.role;
  const runs = Array.isArray(stage.run) ? stage.run.join(' ') : stage.run;
  const cls = classifyCommand(`${stage.name} ${runs}`);
  if (cls === 'setup') return 'setup';
  if (
    /^(score|scoring|eval|evaluate|evaluation|grade|metrics?)$/i.test(stage.name) ||
    (cls === 'eval' && !/^(generate|rollout|infer|inference|predict|sample)/i.test(stage.name))
  )
    return 'evaluate';
  return 'rollout';
}

function strip<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export interface ImportResult {
  /** contract.yaml text, validated. */
  text: string;
  /** What went where, one line each. */
  mapping: string[];
}

export function importPipeline(text: string, file: string): ImportResult {
  const document = parseDocument(text);
  if (document.errors.length > 0)
    throw new TaskFormatError([
      {
        file,
        message: `YAML syntax: ${document.errors[0]!.message.split('\n')[0]}`,
        expected: 'valid YAML',
        found: `line ${document.errors[0]!.linePos?.[0]?.line ?? '?'}`,
        severity: 'error',
      },
    ]);
  const raw: unknown = document.toJS();
  if (!raw || typeof raw !== 'object' || (raw as { version?: unknown }).version !== 1) {
    throw new TaskFormatError([
      {
        file,
        key: 'version',
        message: 'only pipeline.yml version 1 can be imported',
        expected: '1',
        found: describeValue((raw as { version?: unknown } | undefined)?.version),
        severity: 'error',
      },
    ]);
  }
  const parsed = pipelineSchema.safeParse(raw);
  if (!parsed.success) throw new TaskFormatError(zodProblems(parsed.error, file, raw));
  const pipeline = parsed.data;
  const mapping: string[] = [];
  const buckets: Record<'setup' | 'rollout' | 'evaluate' | 'teardown', Command[]> = {
    setup: [],
    rollout: [],
    evaluate: [],
    teardown: [],
  };
  for (const command of pipeline.setup ?? []) buckets.setup.push(mapCommand(command));
  for (const command of pipeline.teardown ?? []) buckets.teardown.push(mapCommand(command));
  if (pipeline.setup?.length) mapping.push(`setup (${pipeline.setup.length}) → stages.setup`);
  for (const [index, stage] of pipeline.stages.entries()) {
    const role = roleOf(stage);
    for (const run of Array.isArray(stage.run) ? stage.run : [stage.run]) {
      buckets[role].push(
        strip({
          run: mapVariables(run),
          timeout_sec: stage.timeout,
          retries: stage.retries,
          env: mapEnv(stage.env),
          workdir: stage.cwd,
        }),
      );
    }
    mapping.push(`stages[${index}] ${stage.name} → stages.${role}${stage.role ? '' : ' (by its name and commands)'}`);
  }
  if (pipeline.teardown?.length) mapping.push(`teardown (${pipeline.teardown.length}) → stages.teardown`);
  const problems = [];
  if (buckets.rollout.length === 0)
    problems.push({
      file,
      key: 'stages',
      message: 'no stage generates samples (role rollout, or a name like generate/infer/rollout)',
      expected: 'a rollout stage',
      found: pipeline.stages.map((s) => s.name).join(', '),
      severity: 'error' as const,
    });
  if (buckets.evaluate.length === 0)
    problems.push({
      file,
      key: 'stages',
      message: 'no stage scores (role evaluate, or a name like score/eval)',
      expected: 'an evaluate stage',
      found: pipeline.stages.map((s) => s.name).join(', '),
      severity: 'error' as const,
    });
  if (problems.length > 0) throw new TaskFormatError(problems);

  const score = strip({
    file: mapVariables(pipeline.scoring.results_file),
    json_path: pipeline.scoring.key ?? (pipeline.scoring.regex ? undefined : pipeline.scoring.metric),
    regex: pipeline.scoring.regex,
    count_path: pipeline.scoring.count_key,
    scale: pipeline.scoring.scale,
  });
  mapping.push(
    `scoring.results_file/key → stages.evaluate.score {file: ${score.file}, ${score.json_path ? `json_path: ${score.json_path}` : `regex: ${score.regex}`}}`,
  );
  const env = mapEnv(pipeline.env);
  const stage = (commands: Command[]) => strip({ commands: commands.map((c) => strip(c)), env });
  const contract = strip({
    version: 1,
    name: pipeline.name,
    description: pipeline.description,
    modes: pipeline.modes
      ? Object.fromEntries(
          Object.entries(pipeline.modes).map(([mode, spec]) => [
            mode,
            strip({ limit: spec.limit ?? undefined, seeds: spec.seeds }),
          ]),
        )
      : undefined,
    scoring: {
      primary_metric: pipeline.scoring.metric,
      kind: pipeline.scoring.kind,
      official: pipeline.scoring.official,
    },
    security: pipeline.timeout ? { total_timeout_sec: pipeline.timeout } : undefined,
    stages: strip({
      setup: buckets.setup.length ? stage(buckets.setup) : undefined,
      rollout: stage(buckets.rollout),
      evaluate: { ...stage(buckets.evaluate), score },
      teardown: buckets.teardown.length ? stage(buckets.teardown) : undefined,
    }),
  });
  if (pipeline.modes) mapping.push('modes → modes');
  mapping.push(
    `variables: ${Object.entries(VARIABLE_MAP)
      .map(([from, to]) => `$${from}→$${to}`)
      .join(' ')}`,
  );
  const body = stringify(contract, { lineWidth: 0 });
  const output = `# Imported from ${file} (pipeline.yml v1) by \`skill-eval target import\`.\n${mapping.map((line) => `#   ${line}`).join('\n')}\n${body}`;
  parseContract(output, `${file} (imported)`);
  return { text: output, mapping };
}
