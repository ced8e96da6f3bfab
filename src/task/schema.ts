import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import type { Problem } from '../errors.js';
import { describeValue, field, isPlainObject, type ReaderContext, TableReader } from '../util/problems.js';
import { GRADER_TYPES, type GraderSpec, JUDGE_PROVIDERS, type TaskConfig } from './types.js';

/**
 * task.toml in both dialects: legacy `version = "1.0"` with free-form `[metadata]`, and Harbor
 * `schema_version = "1.1"` with `[task]`. Pure: text in, config and every problem out.
 */

/** Harbor's defaults, used wherever a key is absent. */
export const TASK_DEFAULTS = {
  agentTimeoutSec: 600,
  verifierTimeoutSec: 600,
  buildTimeoutSec: 600,
  cpus: 1,
  memoryMb: 2048,
  storageMb: 10240,
  gpus: 0,
  allowInternet: true,
} as const;

export const KNOWN_LEGACY_VERSIONS = ['1.0'];
export const KNOWN_HARBOR_SCHEMA_VERSIONS = ['1.0', '1.1'];

export function defaultTaskConfig(): TaskConfig {
  return {
    dialect: 'legacy',
    schemaVersion: '1.0',
    metadata: {},
    agent: { timeoutSec: TASK_DEFAULTS.agentTimeoutSec },
    verifier: { timeoutSec: TASK_DEFAULTS.verifierTimeoutSec, env: {} },
    solution: { env: {} },
    environment: {
      buildTimeoutSec: TASK_DEFAULTS.buildTimeoutSec,
      cpus: TASK_DEFAULTS.cpus,
      memoryMb: TASK_DEFAULTS.memoryMb,
      storageMb: TASK_DEFAULTS.storageMb,
      gpus: TASK_DEFAULTS.gpus,
      allowInternet: TASK_DEFAULTS.allowInternet,
      env: {},
    },
    unknown: {},
  };
}

const positiveSeconds = field(z.number().positive().finite(), 'a positive number of seconds');
const positiveNumber = field(z.number().positive().finite(), 'a positive number');
const positiveInteger = field(z.number().int().positive(), 'a positive integer');
const nonNegativeInteger = field(z.number().int().nonnegative(), 'a non-negative integer');
const nonEmptyString = field(z.string().min(1), 'a non-empty string');
const anyString = field(z.string(), 'a string');
const boolean = field(z.boolean(), 'true or false');
const versionString = field(z.string().min(1), 'a version string such as "1.0"');
const stringList = field(z.array(z.string()), 'an array of strings');
const authorList = field(
  z.array(z.union([z.string(), z.record(z.string(), z.unknown())])),
  'an array of names or { name, email } tables',
);
const absolutePath = field(z.string().regex(/^\//, 'absolute path'), 'an absolute path such as "/skills"');
const sizeString = field(z.string(), 'a size string such as "2G" (units K, M, G, T)');

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([kmgt])(i)?(b)?\s*$/i;
const MB_PER_UNIT: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };

/** `"2G"` → 2048 (MB). Units K/M/G/T, case-insensitive, optional trailing `i`/`B`; undefined when unreadable. */
export function parseSizeToMb(text: string): number | undefined {
  const match = SIZE_PATTERN.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = MB_PER_UNIT[(match[2] ?? '').toLowerCase()];
  if (unit === undefined || !Number.isFinite(amount) || amount <= 0) return undefined;
  // Round up so a small but non-zero size never becomes 0 MB.
  return Math.ceil(amount * unit);
}

export interface ParsedTaskToml {
  /** undefined only when the text is not TOML at all (syntax error). */
  config: TaskConfig | undefined;
  problems: Problem[];
}

/** Parses task.toml text. `file` is how the file is named in problems. */
export function parseTaskToml(text: string, file: string): ParsedTaskToml {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    return { config: undefined, problems: [tomlSyntaxProblem(error, text, file)] };
  }
  return readTaskDocument(document, file);
}

function tomlSyntaxProblem(error: unknown, text: string, file: string): Problem {
  if (error instanceof TomlError) {
    const reason = error.message.replace(/^Invalid TOML document:\s*/, '').split('\n')[0] ?? error.message;
    const lineText = text.split(/\r?\n/)[error.line - 1];
    const problem: Problem = {
      file,
      message: `TOML syntax error at line ${error.line}, column ${error.column}: ${reason}`,
      expected: 'valid TOML',
      severity: 'error',
    };
    if (lineText !== undefined) problem.found = JSON.stringify(lineText.trim());
    return problem;
  }
  return {
    file,
    message: `TOML syntax error: ${error instanceof Error ? error.message : String(error)}`,
    severity: 'error',
  };
}

/** Validates an already parsed task.toml document; applies defaults. */
export function readTaskDocument(document: Record<string, unknown>, file: string): ParsedTaskToml {
  const config = defaultTaskConfig();
  const problems: Problem[] = [];
  const top = new TableReader(document, '', { file, problems, unknown: config.unknown });

  const version = top.read('version', versionString);
  const schemaVersion = top.read('schema_version', versionString);
  if (schemaVersion !== undefined) {
    config.dialect = 'harbor';
    config.schemaVersion = schemaVersion;
    if (!KNOWN_HARBOR_SCHEMA_VERSIONS.includes(schemaVersion)) {
      top.warning(
        'schema_version',
        'unrecognized schema version; reading it as Harbor 1.1',
        `one of ${KNOWN_HARBOR_SCHEMA_VERSIONS.map((v) => `"${v}"`).join(', ')}`,
        describeValue(schemaVersion),
      );
    }
    if (version !== undefined)
      top.warning('version', 'both `version` and `schema_version` are set; `schema_version` (Harbor dialect) wins');
  } else if (version !== undefined) {
    config.dialect = 'legacy';
    config.schemaVersion = version;
    if (!KNOWN_LEGACY_VERSIONS.includes(version)) {
      top.warning(
        'version',
        'unrecognized version; reading it as 1.0',
        `one of ${KNOWN_LEGACY_VERSIONS.map((v) => `"${v}"`).join(', ')}`,
        describeValue(version),
      );
    }
  } else if (!top.has('version') && !top.has('schema_version')) {
    // Harbor itself defaults the version; say which dialect we assumed.
    config.dialect = top.has('task') ? 'harbor' : 'legacy';
    config.schemaVersion = config.dialect === 'harbor' ? '1.1' : '1.0';
    top.warning(
      undefined,
      `no \`version\` or \`schema_version\`; assuming ${config.dialect === 'harbor' ? 'schema_version = "1.1"' : 'version = "1.0"'}`,
      'version = "1.0" or schema_version = "1.1"',
    );
  }

  const metadata = top.subTable('metadata');
  if (metadata) {
    // Free-form by design: kept as written.
    for (const key of metadata.keys()) config.metadata[key] = metadata.raw(key);
  }

  const taskTable = top.subTable('task');
  if (taskTable) {
    config.task = {
      name: taskTable.read('name', nonEmptyString),
      description: taskTable.read('description', anyString),
      authors: taskTable.read('authors', authorList),
      keywords: taskTable.read('keywords', stringList),
    };
    taskTable.finish();
  }

  const verifier = top.subTable('verifier');
  if (verifier) {
    config.verifier.timeoutSec = verifier.read('timeout_sec', positiveSeconds) ?? config.verifier.timeoutSec;
    config.verifier.env = verifier.stringMap('env') ?? {};
    config.verifier.user = verifier.read('user', nonEmptyString);
    verifier.finish();
  }

  const agent = top.subTable('agent');
  if (agent) {
    config.agent.timeoutSec = agent.read('timeout_sec', positiveSeconds) ?? config.agent.timeoutSec;
    config.agent.user = agent.read('user', nonEmptyString);
    agent.finish();
  }

  const solution = top.subTable('solution');
  if (solution) {
    config.solution.env = solution.stringMap('env') ?? {};
    solution.finish();
  }

  const environment = top.subTable('environment');
  if (environment) readEnvironment(environment, config);

  if (top.has('graders')) config.graders = readGraders(top.raw('graders'), { file, problems, unknown: config.unknown });

  top.finish();
  return { config, problems };
}

function readEnvironment(table: TableReader, config: TaskConfig): void {
  const env = config.environment;
  env.buildTimeoutSec = table.read('build_timeout_sec', positiveSeconds) ?? env.buildTimeoutSec;
  env.dockerImage = table.read('docker_image', nonEmptyString);
  env.cpus = table.read('cpus', positiveNumber) ?? env.cpus;
  env.gpus = table.read('gpus', nonNegativeInteger) ?? env.gpus;
  env.allowInternet = table.read('allow_internet', boolean) ?? env.allowInternet;
  env.networkMode = table.read('network_mode', nonEmptyString);
  env.env = table.stringMap('env') ?? {};
  env.skillsDir = table.read('skills_dir', absolutePath);

  const memoryMb = table.read('memory_mb', positiveInteger);
  const storageMb = table.read('storage_mb', positiveInteger);
  env.memoryMb =
    memoryMb ??
    deprecatedSize(table, 'memory', 'memory_mb', memoryMb !== undefined || table.has('memory_mb')) ??
    env.memoryMb;
  env.storageMb =
    storageMb ??
    deprecatedSize(table, 'storage', 'storage_mb', storageMb !== undefined || table.has('storage_mb')) ??
    env.storageMb;
  table.finish();
}

/** The deprecated `memory = "2G"` / `storage = "10G"` strings, in MB, with a deprecation warning. */
function deprecatedSize(
  table: TableReader,
  key: 'memory' | 'storage',
  replacement: string,
  replacementSet: boolean,
): number | undefined {
  const text = table.read(key, sizeString);
  if (text === undefined) return undefined;
  const mb = parseSizeToMb(text);
  if (mb === undefined) {
    table.error(key, 'invalid size', sizeString.expected, describeValue(text));
    return undefined;
  }
  if (replacementSet) {
    table.warning(key, `deprecated and ignored because \`${replacement}\` is also set; remove it`);
    return undefined;
  }
  table.warning(
    key,
    `deprecated; use \`${replacement} = ${mb}\` instead`,
    `${replacement} (an integer number of MB)`,
    describeValue(text),
  );
  return mb;
}

const RELATIVE_FILE = 'a path relative to tests/ such as "graders/checks.sh"';
const relativeFile = field(
  z
    .string()
    .min(1)
    .refine((path) => !path.startsWith('/') && !path.split(/[\\/]/).includes('..'), 'inside tests/'),
  RELATIVE_FILE,
);
const httpUrl = field(z.url({ protocol: /^https?$/ }), 'an http(s) URL such as "http://127.0.0.1:8080"');
const graderType = field(z.enum(GRADER_TYPES), `one of ${GRADER_TYPES.map((t) => `"${t}"`).join(', ')}`);
const judgeProvider = field(z.enum(JUDGE_PROVIDERS), `one of ${JUDGE_PROVIDERS.map((t) => `"${t}"`).join(', ')}`);
const graderName = field(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
  'a name of letters, digits, "_", "." and "-" (it names a folder of the trial)',
);

/** The keys each grader type reads besides type, name and weight (any other key is warned about). */
const GRADER_KEYS: Record<GraderSpec['type'], readonly string[]> = {
  verifier: [],
  deterministic: ['run', 'timeout_sec'],
  llm_rubric: ['rubric', 'model', 'provider', 'base_url'],
};

/** `[[graders]]`: an array of tables, each checked by its type; names unique. Files are checked by loadTask. */
function readGraders(value: unknown, context: ReaderContext): GraderSpec[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isPlainObject)) {
    context.problems.push({
      file: context.file,
      key: 'graders',
      message: 'must be an array of tables ([[graders]] entries)',
      expected: 'one or more [[graders]] tables with a `type`',
      found: describeValue(value),
      severity: 'error',
    });
    return undefined;
  }
  const graders: GraderSpec[] = [];
  const names = new Set<string>();
  value.forEach((entry, index) => {
    const table = new TableReader(entry, `graders[${index}]`, context);
    const grader = readGrader(table);
    table.finish();
    if (!grader) return;
    if (names.has(grader.name))
      table.error('name', 'duplicate grader name', 'a name unique within the task', describeValue(grader.name));
    names.add(grader.name);
    graders.push(grader);
  });
  return graders;
}

function readGrader(table: TableReader): GraderSpec | undefined {
  const type = table.read('type', graderType);
  if (!table.has('type')) table.error('type', 'missing', graderType.expected, describeValue(undefined));
  const name = table.read('name', graderName);
  const weight = table.read('weight', positiveNumber) ?? 1;
  if (type === undefined) return undefined;
  const grader: GraderSpec = { type, name: name ?? type, weight };
  for (const key of ['run', 'timeout_sec', 'rubric', 'model', 'provider', 'base_url']) {
    if (!GRADER_KEYS[type].includes(key) && table.has(key)) {
      table.raw(key);
      table.warning(key, `not a key of a ${type} grader; ignored`);
    }
  }
  if (type === 'deterministic') {
    grader.run = requiredFile(table, 'run');
    grader.timeoutSec = table.read('timeout_sec', positiveSeconds);
  } else if (type === 'llm_rubric') {
    grader.rubric = requiredFile(table, 'rubric');
    grader.model = table.read('model', nonEmptyString);
    grader.provider = table.read('provider', judgeProvider);
    grader.baseUrl = table.read('base_url', httpUrl);
  }
  return grader;
}

function requiredFile(table: TableReader, key: string): string | undefined {
  if (!table.has(key)) table.error(key, 'missing', RELATIVE_FILE, describeValue(undefined));
  return table.read(key, relativeFile);
}
