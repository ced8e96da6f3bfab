import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { parseSizeToMb, parseTaskToml, TASK_DEFAULTS } from '../../src/task/schema.js';

const FILE = 'tasks/demo/task.toml';

function errors(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}
function warnings(problems: Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'warning');
}
function parseOk(text: string) {
  const parsed = parseTaskToml(text, FILE);
  if (!parsed.config) throw new Error(`expected a config, got ${JSON.stringify(parsed.problems)}`);
  return { config: parsed.config, problems: parsed.problems };
}

describe('parseTaskToml: legacy dialect', () => {
  it('reads every key of a full legacy task.toml', () => {
    const { config, problems } = parseOk(`
version = "1.0"

[metadata]
author_name = "Ada"
author_email = "ada@example.com"
difficulty = "hard"
category = "debugging"
tags = ["lint", "python"]

[verifier]
timeout_sec = 120.0
env = { STRICT = "1" }
user = "root"

[agent]
timeout_sec = 300
user = "agent"

[solution]
env = { HINT = "yes" }

[environment]
build_timeout_sec = 900
docker_image = "python:3.12-slim"
cpus = 2.5
memory_mb = 4096
storage_mb = 20480
gpus = 1
allow_internet = false
network_mode = "none"
env = { LANG = "C.UTF-8" }
skills_dir = "/opt/skills"
`);
    expect(problems).toEqual([]);
    expect(config).toEqual({
      dialect: 'legacy',
      schemaVersion: '1.0',
      metadata: {
        author_name: 'Ada',
        author_email: 'ada@example.com',
        difficulty: 'hard',
        category: 'debugging',
        tags: ['lint', 'python'],
      },
      agent: { timeoutSec: 300, user: 'agent' },
      verifier: { timeoutSec: 120, env: { STRICT: '1' }, user: 'root' },
      solution: { env: { HINT: 'yes' } },
      environment: {
        buildTimeoutSec: 900,
        dockerImage: 'python:3.12-slim',
        cpus: 2.5,
        memoryMb: 4096,
        storageMb: 20480,
        gpus: 1,
        allowInternet: false,
        networkMode: 'none',
        env: { LANG: 'C.UTF-8' },
        skillsDir: '/opt/skills',
      },
      unknown: {},
    });
  });

  it('applies Harbor defaults to a minimal legacy task.toml', () => {
    const { config, problems } = parseOk('version = "1.0"\n');
    expect(problems).toEqual([]);
    expect(config.dialect).toBe('legacy');
    expect(config.agent.timeoutSec).toBe(600);
    expect(config.verifier.timeoutSec).toBe(600);
    expect(config.environment).toEqual({
      buildTimeoutSec: 600,
      cpus: 1,
      memoryMb: 2048,
      storageMb: 10240,
      gpus: 0,
      allowInternet: true,
      env: {},
      dockerImage: undefined,
      networkMode: undefined,
      skillsDir: undefined,
    });
    expect(config.task).toBeUndefined();
    expect(TASK_DEFAULTS).toMatchObject({
      agentTimeoutSec: 600,
      verifierTimeoutSec: 600,
      buildTimeoutSec: 600,
      cpus: 1,
      memoryMb: 2048,
      storageMb: 10240,
      gpus: 0,
      allowInternet: true,
    });
  });

  it('keeps defaults for keys a partial table leaves out', () => {
    const { config } = parseOk('version = "1.0"\n[environment]\ncpus = 4\n');
    expect(config.environment.cpus).toBe(4);
    expect(config.environment.memoryMb).toBe(2048);
    expect(config.environment.allowInternet).toBe(true);
  });
});

describe('parseTaskToml: Harbor dialect', () => {
  it('reads schema_version and the [task] table', () => {
    const { config, problems } = parseOk(`
schema_version = "1.1"

[task]
name = "org/superlint"
description = "Fix lint errors"
authors = [{ name = "Ada", email = "ada@example.com" }, "Grace"]
keywords = ["lint"]

[agent]
timeout_sec = 1200

[environment]
memory_mb = 8192
`);
    expect(problems).toEqual([]);
    expect(config.dialect).toBe('harbor');
    expect(config.schemaVersion).toBe('1.1');
    expect(config.task).toEqual({
      name: 'org/superlint',
      description: 'Fix lint errors',
      authors: [{ name: 'Ada', email: 'ada@example.com' }, 'Grace'],
      keywords: ['lint'],
    });
    expect(config.agent.timeoutSec).toBe(1200);
    expect(config.environment.memoryMb).toBe(8192);
  });

  it('accepts a minimal Harbor task.toml with defaults', () => {
    const { config, problems } = parseOk('schema_version = "1.1"\n');
    expect(problems).toEqual([]);
    expect(config.dialect).toBe('harbor');
    expect(config.environment.storageMb).toBe(10240);
  });

  it('warns about an unrecognized schema_version and when both version keys are set', () => {
    const { config, problems } = parseOk('schema_version = "9.9"\nversion = "1.0"\n');
    expect(config.dialect).toBe('harbor');
    expect(errors(problems)).toEqual([]);
    expect(warnings(problems).map((p) => p.key)).toEqual(['schema_version', 'version']);
  });

  it('assumes a dialect with a warning when no version is given', () => {
    const legacy = parseOk('[agent]\ntimeout_sec = 10\n');
    expect(legacy.config.dialect).toBe('legacy');
    expect(warnings(legacy.problems)[0]?.message).toContain('no `version` or `schema_version`');
    const harbor = parseOk('[task]\nname = "x"\n');
    expect(harbor.config.dialect).toBe('harbor');
    expect(warnings(harbor.problems)).toHaveLength(1);
  });
});

describe('parseTaskToml: deprecated sizes', () => {
  it('converts memory and storage strings to MB with a deprecation warning', () => {
    const { config, problems } = parseOk('version = "1.0"\n[environment]\nmemory = "2G"\nstorage = "10G"\n');
    expect(config.environment.memoryMb).toBe(2048);
    expect(config.environment.storageMb).toBe(10240);
    expect(errors(problems)).toEqual([]);
    const deprecations = warnings(problems);
    expect(deprecations.map((p) => p.key)).toEqual(['environment.memory', 'environment.storage']);
    expect(deprecations[0]?.message).toContain('memory_mb = 2048');
    expect(deprecations[0]?.file).toBe(FILE);
  });

  it.each([
    ['2G', 2048],
    ['2g', 2048],
    ['2GB', 2048],
    ['2Gi', 2048],
    ['2GiB', 2048],
    ['512M', 512],
    ['512mb', 512],
    ['1.5G', 1536],
    ['1T', 1048576],
    ['1024K', 1],
    ['1K', 1],
  ])('parses %s as %d MB', (text, mb) => {
    expect(parseSizeToMb(text)).toBe(mb);
  });

  it.each(['two', '2', '2X', '', 'G', '-1G', '0G'])('rejects %j', (text) => {
    expect(parseSizeToMb(text)).toBeUndefined();
  });

  it('reports an unreadable size string as an error naming the key', () => {
    const { problems } = parseOk('version = "1.0"\n[environment]\nmemory = "lots"\n');
    expect(errors(problems)).toEqual([
      expect.objectContaining({
        file: FILE,
        key: 'environment.memory',
        found: '"lots" (string)',
        expected: expect.stringContaining('"2G"'),
      }),
    ]);
  });

  it('prefers memory_mb over the deprecated memory and says so', () => {
    const { config, problems } = parseOk('version = "1.0"\n[environment]\nmemory_mb = 1024\nmemory = "4G"\n');
    expect(config.environment.memoryMb).toBe(1024);
    expect(warnings(problems)).toEqual([
      expect.objectContaining({ key: 'environment.memory', message: expect.stringContaining('ignored') }),
    ]);
  });
});

describe('parseTaskToml: unknown keys', () => {
  it('keeps unknown keys (top level and in known tables) and warns about each', () => {
    const { config, problems } = parseOk(
      'version = "1.0"\nflavour = "mint"\n[environment]\ngpu_types = ["h100"]\n[extra]\na = 1\n',
    );
    expect(config.unknown).toEqual({ flavour: 'mint', 'environment.gpu_types': ['h100'], extra: { a: 1 } });
    expect(errors(problems)).toEqual([]);
    expect(
      warnings(problems)
        .map((p) => p.key)
        .sort(),
    ).toEqual(['environment.gpu_types', 'extra', 'flavour']);
    expect(warnings(problems).every((p) => p.file === FILE && p.message.includes('unknown key'))).toBe(true);
  });

  it('does not warn about free-form [metadata] keys', () => {
    const { problems } = parseOk('version = "1.0"\n[metadata]\nanything = { goes = true }\n');
    expect(problems).toEqual([]);
  });
});

describe('parseTaskToml: wrong types', () => {
  const cases: Array<[string, string, string, string]> = [
    ['[environment]\ncpus = "two"', 'environment.cpus', 'a positive number', '"two" (string)'],
    ['[environment]\ncpus = 0', 'environment.cpus', 'a positive number', '0 (number)'],
    ['[agent]\ntimeout_sec = -5', 'agent.timeout_sec', 'a positive number of seconds', '-5 (number)'],
    ['[verifier]\ntimeout_sec = "10m"', 'verifier.timeout_sec', 'a positive number of seconds', '"10m" (string)'],
    [
      '[environment]\nbuild_timeout_sec = -1.5',
      'environment.build_timeout_sec',
      'a positive number of seconds',
      '-1.5 (number)',
    ],
    ['[environment]\nmemory_mb = 1.5', 'environment.memory_mb', 'a positive integer', '1.5 (number)'],
    ['[environment]\nstorage_mb = -10', 'environment.storage_mb', 'a positive integer', '-10 (number)'],
    ['[environment]\ngpus = -1', 'environment.gpus', 'a non-negative integer', '-1 (number)'],
    ['[environment]\nallow_internet = "no"', 'environment.allow_internet', 'true or false', '"no" (string)'],
    ['[environment]\ndocker_image = 3', 'environment.docker_image', 'a non-empty string', '3 (number)'],
    [
      '[environment]\nskills_dir = "skills"',
      'environment.skills_dir',
      'an absolute path such as "/skills"',
      '"skills" (string)',
    ],
    ['[verifier]\nenv = { PORT = 8080 }', 'verifier.env.PORT', 'a string', '8080 (number)'],
    ['[verifier]\nenv = "A=1"', 'verifier.env', 'a table', '"A=1" (string)'],
    ['environment = "docker"', 'environment', 'a table', '"docker" (string)'],
    ['[task]\nkeywords = "lint"', 'task.keywords', 'an array of strings', '"lint" (string)'],
  ];

  it.each(cases)('%j → error at %s', (body, key, expected, found) => {
    const parsed = parseTaskToml(`version = "1.0"\n${body}\n`, FILE);
    expect(errors(parsed.problems)).toEqual([
      expect.objectContaining({ file: FILE, key, expected, found, severity: 'error' }),
    ]);
  });

  it('reports a version that is not a string', () => {
    const parsed = parseTaskToml('version = 1.0\n', FILE);
    expect(errors(parsed.problems)).toEqual([expect.objectContaining({ key: 'version', found: '1 (number)' })]);
  });

  it('collects every problem instead of stopping at the first', () => {
    const parsed = parseTaskToml(
      'version = "1.0"\n[agent]\ntimeout_sec = "x"\n[environment]\ncpus = "two"\ngpus = 0.5\nallow_internet = 1\n',
      FILE,
    );
    expect(errors(parsed.problems).map((p) => p.key)).toEqual([
      'agent.timeout_sec',
      'environment.cpus',
      'environment.gpus',
      'environment.allow_internet',
    ]);
  });
});

describe('parseTaskToml: syntax errors', () => {
  it('reports line and column and no config', () => {
    const parsed = parseTaskToml('version = "1.0"\n\n[agent]\ntimeout_sec = = 300\n', FILE);
    expect(parsed.config).toBeUndefined();
    expect(parsed.problems).toHaveLength(1);
    const [problem] = parsed.problems;
    expect(problem).toMatchObject({
      file: FILE,
      severity: 'error',
      expected: 'valid TOML',
      found: '"timeout_sec = = 300"',
    });
    expect(problem?.message).toMatch(/^TOML syntax error at line 4, column \d+: /);
  });

  it('reports a duplicated table', () => {
    const parsed = parseTaskToml('version = "1.0"\n[agent]\n[agent]\n', FILE);
    expect(parsed.problems[0]?.message).toContain('line 3');
  });
});

describe('parseTaskToml: [[graders]]', () => {
  it('reads each grader type with its defaults', () => {
    const { config, problems } = parseOk(`
version = "1.0"
[[graders]]
type = "verifier"
[[graders]]
type = "deterministic"
name = "checks"
run = "graders/checks.sh"
weight = 0.7
timeout_sec = 30
[[graders]]
type = "llm_rubric"
rubric = "graders/approach.md"
weight = 0.3
model = "gpt-4.1-mini"
provider = "openai"
base_url = "http://127.0.0.1:8080"
`);
    expect(errors(problems)).toEqual([]);
    expect(config.graders).toEqual([
      { type: 'verifier', name: 'verifier', weight: 1 },
      { type: 'deterministic', name: 'checks', weight: 0.7, run: 'graders/checks.sh', timeoutSec: 30 },
      {
        type: 'llm_rubric',
        name: 'llm_rubric',
        weight: 0.3,
        rubric: 'graders/approach.md',
        model: 'gpt-4.1-mini',
        provider: 'openai',
        baseUrl: 'http://127.0.0.1:8080',
      },
    ]);
  });

  it('leaves graders undefined without [[graders]] (the implicit verifier)', () => {
    expect(parseOk('version = "1.0"\n').config.graders).toBeUndefined();
  });

  it('names the key, what was expected and what was found', () => {
    const { problems } = parseTaskToml(
      `version = "1.0"
[[graders]]
type = "verifier"
weight = -1
[[graders]]
type = "deterministic"
[[graders]]
type = "magic"
[[graders]]
type = "llm_rubric"
rubric = "../secret.md"
name = "x"
[[graders]]
type = "verifier"
name = "x"
`,
      FILE,
    );
    const found = errors(problems).map(({ key, expected, found, file }) => ({ file, key, expected, found }));
    expect(found).toEqual([
      { file: FILE, key: 'graders[0].weight', expected: 'a positive number', found: '-1 (number)' },
      {
        file: FILE,
        key: 'graders[1].run',
        expected: 'a path relative to tests/ such as "graders/checks.sh"',
        found: 'nothing (the key is missing)',
      },
      {
        file: FILE,
        key: 'graders[2].type',
        expected: 'one of "verifier", "deterministic", "llm_rubric"',
        found: '"magic" (string)',
      },
      {
        file: FILE,
        key: 'graders[3].rubric',
        expected: 'a path relative to tests/ such as "graders/checks.sh"',
        found: '"../secret.md" (string)',
      },
      { file: FILE, key: 'graders[4].name', expected: 'a name unique within the task', found: '"x" (string)' },
    ]);
  });

  it('rejects graders that are not an array of tables and warns about keys of another type', () => {
    expect(errors(parseTaskToml('version = "1.0"\ngraders = "tests"\n', FILE).problems)).toEqual([
      expect.objectContaining({ key: 'graders', found: '"tests" (string)' }),
    ]);
    const { problems } = parseOk('version = "1.0"\n[[graders]]\ntype = "verifier"\nrubric = "r.md"\n');
    expect(warnings(problems)).toEqual([
      expect.objectContaining({ key: 'graders[0].rubric', message: 'not a key of a verifier grader; ignored' }),
    ]);
  });
});
