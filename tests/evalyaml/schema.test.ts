import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { parseEvalYaml } from '../../src/evalyaml/schema.js';

const GOOD_EVAL = `
  - name: good
    instruction: Fix app.js.
    graders:
      - type: deterministic
        run: echo '{"score":1}'
`;

function fileErrors(text: string): string[] {
  return parseEvalYaml(text, 'skill/eval.yaml').problems.map(formatProblem);
}

function evalErrors(text: string): string[] {
  const parsed = parseEvalYaml(text, 'skill/eval.yaml');
  expect(parsed.problems).toEqual([]);
  return (parsed.file?.evals ?? []).flatMap((e) => (e.ok ? [] : e.problems.map(formatProblem)));
}

describe('parseEvalYaml', () => {
  it('reads skillgrade’s keys, shorthand workspace entries included', () => {
    const parsed = parseEvalYaml(
      `version: "1"\nskill: .\ndefaults:\n  agent: claude\n  trials: 3\n  threshold: 0.6\n  docker: {base: node:20-slim, setup: apt-get install -y jq}\n  environment: {cpus: 1.5, memory_mb: 1024}\ntasks:\n  - name: one\n    instruction: x\n    workspace: [fixtures/app.js]\n    graders: [{type: llm_rubric, rubric: ok?, weight: 0.3, model: m}]\n    timeout: 60\n`,
      'eval.yaml',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.file?.defaults).toMatchObject({ agent: 'claude', trials: 3, threshold: 0.6 });
    const [first] = parsed.file?.evals ?? [];
    expect(first?.ok && first.config.workspace).toEqual([{ src: 'fixtures/app.js', dest: 'app.js' }]);
  });

  it('names the file, the key path, what was expected and what was found for each problem of one eval', () => {
    const errors = evalErrors(`version: "1"
tasks:
  - name: bad
    instruction: hi
    graders:
      - type: deterministic
        run: echo
        weight: 0
      - type: llm_rubric
        weight: "heavy"
        rubric: r
      - {type: deterministic, run: x, colour: red}
`);
    expect(errors).toEqual([
      'skill/eval.yaml: tasks[0].graders[0].weight: invalid value; expected a number greater than 0; found 0 (number)',
      'skill/eval.yaml: tasks[0].graders[1].weight: invalid value; expected a number greater than 0; found "heavy" (string)',
      'skill/eval.yaml: tasks[0].graders[2].colour: unknown key; expected one of the keys type, run, rubric, setup, model, weight, expectedTools; found "red" (string)',
    ]);
  });

  it('says what is missing, and which grader needs which key', () => {
    const errors = evalErrors(`tasks:
  - instruction: hi
    graders: [{type: llm_rubric}, {type: deterministic, rubric: r, run: x}]
`);
    expect(errors).toEqual([
      'skill/eval.yaml: tasks[0].name: missing; expected a name of letters, digits, ".", "_" and "-" (it becomes the task folder name); found nothing (the key is missing)',
      'skill/eval.yaml: tasks[0].graders[0].rubric: missing; expected inline text or a file relative to eval.yaml (an llm_rubric grader needs one); found nothing (the key is missing)',
      'skill/eval.yaml: tasks[0].graders[1].rubric: invalid value; expected no rubric on a deterministic grader (it runs `run`); found "r" (string)',
    ]);
    expect(evalErrors(`tasks:\n  - name: a\n    instruction: hi\n    graders: [{type: llm_rubric}]\n`)).toEqual([
      'skill/eval.yaml: tasks[0].graders[0].rubric: missing; expected inline text or a file relative to eval.yaml (an llm_rubric grader needs one); found nothing (the key is missing)',
    ]);
    expect(evalErrors(`tasks:\n  - name: a\n    instruction: hi\n    graders: []\n`)).toEqual([
      'skill/eval.yaml: tasks[0].graders: invalid value; expected at least one grader; found [] (array)',
    ]);
  });

  it('refuses what skillgrade knows but skill-eval cannot do, by key, instead of silently differing', () => {
    const errors = evalErrors(`tasks:
  - name: a
    instruction: hi
    trialConfig: {setup: npm ci}
    environment: {mounts: [~/.npmrc]}
    graders: [{type: tool_usage, weight: 1}]
`);
    expect(errors).toEqual([
      'skill/eval.yaml: tasks[0].graders[0].type: invalid value; expected deterministic or llm_rubric (tool_usage graders are not supported); found "tool_usage" (string)',
      'skill/eval.yaml: tasks[0].environment.mounts: not supported: host mounts would make trials depend on the machine; copy files with workspace; expected the key removed; found ["~/.npmrc"] (array)',
      'skill/eval.yaml: tasks[0].trialConfig: not supported: per-trial setup/cleanup commands have no place in a Harbor task; put setup in docker.setup; expected the key removed; found {"setup":"npm ci"} (mapping)',
    ]);
  });

  it('keeps the good evals of a file when another is broken, and marks a duplicate name', () => {
    const parsed = parseEvalYaml(
      `tasks:${GOOD_EVAL}  - name: broken\n    graders: [{type: deterministic, run: x}]\n${GOOD_EVAL}`,
      'eval.yaml',
    );
    expect(parsed.file?.evals.map((e) => e.ok)).toEqual([true, false, false]);
    const [, missing, duplicate] = (parsed.file?.evals ?? []).map((e) => (e.ok ? [] : e.problems.map(formatProblem)));
    expect(missing).toEqual([
      'eval.yaml: tasks[1].instruction: missing; expected a non-empty string; found nothing (the key is missing)',
    ]);
    expect(duplicate).toEqual([
      'eval.yaml: tasks[2].name: duplicate eval name; also used by tasks[0]; expected a name no other eval in the file uses (it becomes the task folder name); found "good" (string)',
    ]);
  });

  it('reports problems of the file itself: YAML syntax, version, defaults, no tasks', () => {
    expect(fileErrors('tasks: [\n')[0]).toMatch(
      /^skill\/eval\.yaml: YAML syntax error at line \d+, column \d+: .+; expected valid YAML$/,
    );
    expect(fileErrors(`version: "2"\ndefaults: {trials: 0, colour: red}\ntasks: []\n`)).toEqual([
      'skill/eval.yaml: version: invalid value; expected "1"; found "2" (string)',
      'skill/eval.yaml: defaults.trials: invalid value; expected a positive whole number; found 0 (number)',
      'skill/eval.yaml: defaults.colour: unknown key; expected one of the keys agent, provider, trials, timeout, threshold, grader_model, docker, environment, env, workspace, trialConfig; found "red" (string)',
      'skill/eval.yaml: tasks: invalid value; expected at least one eval under tasks; found [] (array)',
    ]);
    expect(fileErrors('- just a list\n')).toEqual([
      'skill/eval.yaml: eval.yaml must be a mapping; expected a mapping with version, defaults and tasks; found ["just a list"] (array)',
    ]);
  });

  it('checks workspace entries: one of src and content, a chmod mode', () => {
    const errors = evalErrors(`tasks:
  - name: a
    instruction: hi
    workspace: [{dest: x}, {src: a, dest: b, chmod: executable}]
    graders: [{type: deterministic, run: x}]
`);
    expect(errors).toEqual([
      'skill/eval.yaml: tasks[0].workspace[0]: invalid value; expected exactly one of src (a file relative to eval.yaml) and content (inline text); found {"dest":"x"} (mapping)',
      'skill/eval.yaml: tasks[0].workspace[1].chmod: invalid value; expected a chmod mode such as "+x" or "755"; found "executable" (string)',
    ]);
    expect(
      evalErrors(
        `tasks:\n  - name: a\n    instruction: hi\n    workspace: [{dest: x}]\n    graders: [{type: deterministic, run: x}]\n`,
      ),
    ).toEqual([
      'skill/eval.yaml: tasks[0].workspace[0]: invalid value; expected exactly one of src (a file relative to eval.yaml) and content (inline text); found {"dest":"x"} (mapping)',
    ]);
  });
});
