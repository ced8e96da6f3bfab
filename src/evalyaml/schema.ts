import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../errors.js';
import { describeValue, isPlainObject, keyPath, valueAt } from '../util/problems.js';

/**
 * skillgrade's eval.yaml (npm `skillgrade`, mgechev/skillgrade), read as skill authors write it. Pure: text in,
 * the file's settings and each eval (task) validated on its own, so one broken eval never hides the others.
 * Every schema below says in its `error` what a user must write; evalProblems turns zod issues into Problems.
 */

/** `error` text of every schema: what was expected. Unknown keys list the known ones. */
function expect(expected: string) {
  return { error: expected };
}

function strict<T extends z.ZodRawShape>(shape: T, what: string) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `one of the keys ${keys}` : what),
  });
}

const nonEmptyString = z.string(expect('a non-empty string')).min(1, expect('a non-empty string'));
const positiveNumber = z.number(expect('a positive number')).positive(expect('a positive number')).finite();
const positiveInteger = z.number(expect('a positive whole number')).int(expect('a positive whole number')).positive();
const stringMap = z.record(z.string(), z.string(expect('a string (quote numbers: "8080")')), expect('a mapping'));

/** skillgrade's agent and provider names; ours run the same CLIs. */
const EVAL_YAML_AGENTS = ['gemini', 'claude', 'codex', 'opencode', 'oracle', 'nop'] as const;
const EVAL_YAML_PROVIDERS = ['docker', 'local'] as const;

const agentName = z.enum(EVAL_YAML_AGENTS, expect(`one of ${EVAL_YAML_AGENTS.join(', ')}`));
const providerName = z.enum(EVAL_YAML_PROVIDERS, expect(`one of ${EVAL_YAML_PROVIDERS.join(', ')}`));

/** Keys skillgrade knows that have no equivalent here: an error naming the key, never a silent difference. */
const unsupported = (why: string) => z.unknown().refine(() => false, { message: `not supported: ${why}` });

const dockerSchema = strict(
  { base: nonEmptyString.optional(), setup: z.string(expect('a string of shell commands')).optional() },
  'a mapping with base and setup',
);

const environmentSchema = strict(
  {
    cpus: positiveNumber.optional(),
    memory_mb: positiveInteger.optional(),
    mounts: unsupported('host mounts would make trials depend on the machine; copy files with workspace').optional(),
  },
  'a mapping with cpus and memory_mb',
);

/** `"fixtures/app.js"` is skillgrade's shorthand for `{ src: fixtures/app.js, dest: app.js }`. */
const workspaceEntry = z.preprocess(
  (value) => (typeof value === 'string' ? { src: value, dest: basename(value) } : value),
  strict(
    {
      src: nonEmptyString.optional(),
      content: z.string(expect('a string (the file content)')).optional(),
      dest: nonEmptyString,
      chmod: z
        .string(expect('a chmod mode such as "+x" or "755"'))
        .regex(
          /^(?:[0-7]{3,4}|(?:[ugoa]*[-+=][rwxX]*)(?:,[ugoa]*[-+=][rwxX]*)*)$/,
          expect('a chmod mode such as "+x" or "755"'),
        )
        .optional(),
    },
    'a mapping with src (or content), dest and chmod, or a path',
  ).refine((entry) => (entry.src === undefined) !== (entry.content === undefined), {
    message: 'exactly one of src (a file relative to eval.yaml) and content (inline text)',
  }),
);

const trialConfigUnsupported = unsupported(
  'per-trial setup/cleanup commands have no place in a Harbor task; put setup in docker.setup',
);

const graderSchema = strict(
  {
    type: z.enum(['deterministic', 'llm_rubric'], {
      error: (issue) =>
        issue.input === 'tool_usage'
          ? 'deterministic or llm_rubric (tool_usage graders are not supported)'
          : 'deterministic or llm_rubric',
    }),
    run: nonEmptyString.optional(),
    rubric: nonEmptyString.optional(),
    setup: z.string(expect('a string of shell commands')).optional(),
    model: nonEmptyString.optional(),
    weight: z.number(expect('a number greater than 0')).positive(expect('a number greater than 0')).finite().optional(),
    expectedTools: unsupported('tool_usage graders are not supported').optional(),
  },
  'a mapping with type, run or rubric, and weight',
)
  .refine((g) => g.type !== 'deterministic' || g.run !== undefined, {
    message: 'a script, a command, or a file relative to eval.yaml (a deterministic grader needs one)',
    path: ['run'],
  })
  .refine((g) => g.type !== 'llm_rubric' || g.rubric !== undefined, {
    message: 'inline text or a file relative to eval.yaml (an llm_rubric grader needs one)',
    path: ['rubric'],
  })
  .refine((g) => g.type !== 'deterministic' || g.rubric === undefined, {
    message: 'no rubric on a deterministic grader (it runs `run`)',
    path: ['rubric'],
  })
  .refine((g) => g.type !== 'llm_rubric' || g.run === undefined, {
    message: 'no run on an llm_rubric grader (it reads `rubric`)',
    path: ['run'],
  });

/** Letters, digits, `.`, `_`, `-`: the eval's name becomes a task folder name. */
const EVAL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const evalTaskSchema = strict(
  {
    name: z
      .string(expect('a name of letters, digits, ".", "_" and "-" (it becomes the task folder name)'))
      .regex(
        EVAL_NAME_PATTERN,
        expect('a name of letters, digits, ".", "_" and "-" (it becomes the task folder name)'),
      ),
    instruction: nonEmptyString,
    workspace: z.array(workspaceEntry, expect('a list of workspace files')).optional(),
    graders: z.array(graderSchema, expect('a list of graders')).min(1, expect('at least one grader')),
    solution: nonEmptyString.optional(),
    env: stringMap.optional(),
    agent: agentName.optional(),
    provider: providerName.optional(),
    trials: positiveInteger.optional(),
    timeout: positiveNumber.optional(),
    grader_model: nonEmptyString.optional(),
    docker: dockerSchema.optional(),
    environment: environmentSchema.optional(),
    trialConfig: trialConfigUnsupported.optional(),
    agentWorkingDir: unsupported('the agent always starts in the workspace (/workspace)').optional(),
  },
  'a mapping with name, instruction and graders',
);

const evalDefaultsSchema = strict(
  {
    agent: agentName.optional(),
    provider: providerName.optional(),
    trials: positiveInteger.optional(),
    timeout: positiveNumber.optional(),
    threshold: z
      .number(expect('a pass rate between 0 and 1'))
      .min(0, expect('a pass rate between 0 and 1'))
      .max(1, expect('a pass rate between 0 and 1'))
      .optional(),
    grader_model: nonEmptyString.optional(),
    docker: dockerSchema.optional(),
    environment: environmentSchema.optional(),
    env: stringMap.optional(),
    workspace: z.array(workspaceEntry, expect('a list of workspace files')).optional(),
    trialConfig: trialConfigUnsupported.optional(),
  },
  'a mapping of defaults (agent, provider, trials, timeout, threshold, grader_model, docker, environment)',
);

const fileSchema = strict(
  {
    version: z.union([z.literal('1'), z.literal(1)], expect('"1"')).optional(),
    skill: nonEmptyString.optional(),
    defaults: evalDefaultsSchema.optional(),
    tasks: z.array(z.unknown(), expect('a list of evals')).min(1, expect('at least one eval under tasks')),
  },
  'a mapping with version, defaults and tasks',
);

export type EvalTaskConfig = z.infer<typeof evalTaskSchema>;
export type EvalDefaults = z.infer<typeof evalDefaultsSchema>;
export type EvalGraderConfig = EvalTaskConfig['graders'][number];
export type WorkspaceMapping = NonNullable<EvalTaskConfig['workspace']>[number];

/** One eval of the file: validated, or every problem it has (each key prefixed `tasks[i]`). */
export type ParsedEval =
  | { index: number; ok: true; config: EvalTaskConfig }
  | { index: number; ok: false; name?: string | undefined; problems: Problem[] };

export interface ParsedEvalYaml {
  /** undefined when the file itself (YAML, version, skill, defaults, tasks) is broken. */
  file?: { skill?: string | undefined; defaults: EvalDefaults; evals: ParsedEval[] } | undefined;
  /** Problems of the file's own keys; each eval's are in its ParsedEval. */
  problems: Problem[];
}

/** zod issues → one Problem each: the key path, what was expected (the schema's words), what was found. */
function evalProblems(error: z.ZodError, file: string, data: unknown, prefix?: string): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        problems.push({
          file,
          key: keyPath(path, prefix),
          message: 'unknown key',
          expected: issue.message,
          found: describeValue(valueAt(data, path), 'mapping'),
          severity: 'error',
        });
      }
      continue;
    }
    const value = valueAt(data, issue.path);
    const notSupported = issue.message.startsWith('not supported: ');
    problems.push({
      file,
      key: keyPath(issue.path, prefix),
      message: notSupported ? issue.message : value === undefined ? 'missing' : 'invalid value',
      expected: notSupported ? 'the key removed' : issue.message,
      found: describeValue(value, 'mapping'),
      severity: 'error',
    });
  }
  return problems;
}

function yamlProblems(text: string, file: string): { data?: unknown; problems: Problem[] } {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length === 0) return { data: document.toJS(), problems: [] };
  return {
    problems: document.errors.map((error) => {
      const position = error.linePos?.[0];
      const where = position ? ` at line ${position.line}, column ${position.col}` : '';
      const reason = (error.message.split(/ at line \d+/)[0] ?? error.message).split('\n')[0];
      return { file, message: `YAML syntax error${where}: ${reason}`, expected: 'valid YAML', severity: 'error' };
    }),
  };
}

/** Parses eval.yaml text. `file` is how the file is named in problems. */
export function parseEvalYaml(text: string, file: string): ParsedEvalYaml {
  const yaml = yamlProblems(text, file);
  if (yaml.problems.length > 0) return { problems: yaml.problems };
  if (!isPlainObject(yaml.data)) {
    const problem: Problem = {
      file,
      message: 'eval.yaml must be a mapping',
      expected: 'a mapping with version, defaults and tasks',
      found: describeValue(yaml.data, 'mapping'),
      severity: 'error',
    };
    return { problems: [problem] };
  }
  const top = fileSchema.safeParse(yaml.data);
  if (!top.success) return { problems: evalProblems(top.error, file, yaml.data) };
  const evals = top.data.tasks.map((raw, index): ParsedEval => {
    const parsed = evalTaskSchema.safeParse(raw);
    if (parsed.success) return { index, ok: true, config: parsed.data };
    const name = isPlainObject(raw) && typeof raw.name === 'string' ? raw.name : undefined;
    return { index, ok: false, name, problems: evalProblems(parsed.error, file, raw, `tasks[${index}]`) };
  });
  markDuplicateNames(evals, file);
  return { file: { skill: top.data.skill, defaults: top.data.defaults ?? {}, evals }, problems: [] };
}

/** Two evals of one name would be one task folder: the later ones are broken. */
function markDuplicateNames(evals: ParsedEval[], file: string): void {
  const firstIndex = new Map<string, number>();
  for (const [position, entry] of evals.entries()) {
    if (!entry.ok) continue;
    const first = firstIndex.get(entry.config.name);
    if (first === undefined) {
      firstIndex.set(entry.config.name, entry.index);
      continue;
    }
    evals[position] = {
      index: entry.index,
      ok: false,
      name: entry.config.name,
      problems: [
        {
          file,
          key: `tasks[${entry.index}].name`,
          message: `duplicate eval name; also used by tasks[${first}]`,
          expected: 'a name no other eval in the file uses (it becomes the task folder name)',
          found: describeValue(entry.config.name),
          severity: 'error',
        },
      ],
    };
  }
}
