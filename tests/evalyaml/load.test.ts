import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { loadEvalYaml } from '../../src/evalyaml/load.js';
import type { PlannedFile } from '../../src/evalyaml/task-files.js';
import { listFiles } from '../../src/util/file-tree.js';
import { FIXTURES } from '../helpers/trials.js';
import { tempDir, writeTree } from '../task/helpers.js';

const SUPERLINT = join(FIXTURES, 'evalyaml', 'superlint');
const GOLDEN = join(FIXTURES, 'evalyaml', 'superlint.expected', 'fix-linting-errors');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function skillDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  await writeTree(dir.path, { 'SKILL.md': '---\nname: demo\ndescription: A demo skill.\n---\nUse it.\n', ...files });
  return dir.path;
}

function fileText(files: readonly PlannedFile[], path: string): string | undefined {
  return files.find((f) => f.path === path)?.data.toString('utf8');
}

describe('loadEvalYaml', () => {
  it('converts skillgrade’s superlint example to exactly the golden task directory', async () => {
    const loaded = await loadEvalYaml(join(SUPERLINT, 'eval.yaml'), { cwd: SUPERLINT });
    expect([...loaded.problems, ...loaded.warnings, ...loaded.broken]).toEqual([]);
    const [task] = loaded.converted;
    expect(task?.name).toBe('fix-linting-errors');
    const golden = await listFiles(GOLDEN);
    expect(task?.files.map((f) => `${f.path} ${f.executable ? '755' : '644'}`)).toEqual(
      golden.map((f) => `${f.relativePath} ${f.mode}`),
    );
    for (const file of task?.files ?? [])
      expect(file.data.toString('utf8'), file.path).toBe(await readFile(join(GOLDEN, file.path), 'utf8'));
  });

  it('is deterministic: the same eval.yaml converts to the same bytes, from any working directory', async () => {
    const first = await loadEvalYaml(join(SUPERLINT, 'eval.yaml'), { cwd: SUPERLINT });
    const second = await loadEvalYaml('tests/fixtures/evalyaml/superlint/eval.yaml', {
      cwd: join(FIXTURES, '..', '..'),
    });
    expect(second.converted).toEqual(first.converted);
    expect(first.converted.length).toBe(1);
  });

  it('maps the graders to [[graders]] with their files under tests/, and the defaults to task.toml', async () => {
    const loaded = await loadEvalYaml(join(SUPERLINT, 'eval.yaml'), { cwd: SUPERLINT });
    const toml = parseToml(fileText(loaded.converted[0]!.files, 'task.toml') ?? '');
    expect(toml).toMatchObject({
      schema_version: '1.1',
      agent: { timeout_sec: 300 },
      environment: { cpus: 2, memory_mb: 2048 },
      metadata: { source_format: 'skillgrade eval.yaml', source_file: 'eval.yaml', source_task_index: 0 },
      graders: [
        { type: 'deterministic', name: 'deterministic', run: 'graders/deterministic.sh', weight: 0.7 },
        { type: 'llm_rubric', name: 'llm_rubric', rubric: 'graders/llm_rubric.md', weight: 0.3 },
      ],
    });
  });

  it('reads instruction, rubric and run from files next to eval.yaml and keeps them out of the skill copy', async () => {
    const dir = await skillDir({
      'eval.yaml': `defaults:\n  docker: {base: debian:12, setup: "apt-get update\\napt-get install -y jq"}\n  env: {MODE: strict}\ntasks:\n  - name: t\n    instruction: prompts/task.md\n    workspace: [{content: "hello\\n", dest: notes/hello.txt, chmod: "755"}]\n    graders:\n      - {type: deterministic, run: checks/score.sh --strict, weight: 2}\n      - {type: deterministic, run: node graders/check.js app.js}\n      - {type: llm_rubric, rubric: rubrics/quality.md, model: judge-1}\n`,
      'prompts/task.md': 'Do the task.\n',
      'checks/score.sh': 'echo "{\\"score\\": 1}"\n',
      'graders/check.js': 'console.log(JSON.stringify({ score: 1 }));\n',
      'graders/lib.js': 'module.exports = {};\n',
      'rubrics/quality.md': 'Was it good?\n',
      '.env': 'GEMINI_API_KEY=secret\n',
      'scripts/helper.sh': 'echo help\n',
    });
    const loaded = await loadEvalYaml(join(dir, 'eval.yaml'), { cwd: dir });
    expect(loaded.broken).toEqual([]);
    const files = loaded.converted[0]!.files;
    expect(fileText(files, 'instruction.md')).toBe('Do the task.\n');
    expect(fileText(files, 'tests/graders/deterministic_1.sh')).toContain('set -- --strict\necho "{\\"score\\": 1}"');
    expect(fileText(files, 'tests/graders/deterministic_2.sh')).toContain(
      'GRADER_FILES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/files"\nnode $GRADER_FILES/graders/check.js app.js',
    );
    expect(fileText(files, 'tests/graders/files/graders/lib.js')).toBe('module.exports = {};\n');
    expect(fileText(files, 'tests/graders/llm_rubric.md')).toBe('Was it good?\n');
    expect(fileText(files, 'environment/files/.inline/1')).toBe('hello\n');
    expect(files.find((f) => f.path === 'environment/files/.inline/1')?.executable).toBe(true);
    expect(fileText(files, 'environment/Dockerfile')).toBe(
      [
        '# Generated by skill-eval from eval.yaml (eval "t"). Edit eval.yaml and convert again.',
        'FROM debian:12',
        'WORKDIR /workspace',
        'ENV MODE="strict"',
        '# docker.setup',
        'RUN ["/bin/sh","-ec","apt-get update\\napt-get install -y jq"]',
        'COPY files/.inline/1 notes/hello.txt',
        'RUN chmod 755 notes/hello.txt',
        '',
      ].join('\n'),
    );
    const skill = files.filter((f) => f.path.startsWith('skills/')).map((f) => f.path);
    expect(skill).toEqual(['skills/demo/SKILL.md', 'skills/demo/prompts/task.md', 'skills/demo/scripts/helper.sh']);
    expect(parseToml(fileText(files, 'task.toml') ?? '')).toMatchObject({
      graders: [{ weight: 2 }, { weight: 1 }, { model: 'judge-1', weight: 1 }],
    });
  });

  it('reports a broken eval by key and converts the others', async () => {
    const dir = await skillDir({
      'eval.yaml': `tasks:\n  - name: good\n    instruction: hi\n    graders: [{type: deterministic, run: "true"}]\n  - name: bad\n    instruction: prompts/missing.md\n    workspace: [{src: fixtures/nope.js, dest: app.js}]\n    solution: solve.sh\n    graders: [{type: llm_rubric, rubric: rubrics/none.md}]\n`,
    });
    const loaded = await loadEvalYaml(join(dir, 'eval.yaml'), { cwd: dir });
    expect(loaded.converted.map((c) => c.name)).toEqual(['good']);
    expect(loaded.broken.map((b) => b.name)).toEqual(['bad']);
    expect(loaded.broken[0]?.problems.map(formatProblem)).toEqual([
      `eval.yaml: tasks[1].instruction: no such file: ${dir}/prompts/missing.md; expected the instruction inline, or a file relative to eval.yaml; found "prompts/missing.md" (string)`,
      `eval.yaml: tasks[1].workspace[0].src: no such file or folder: ${dir}/fixtures/nope.js; expected a file or folder relative to eval.yaml; found "fixtures/nope.js" (string)`,
      `eval.yaml: tasks[1].graders[0].rubric: no such file: ${dir}/rubrics/none.md; expected a rubric inline, or a file relative to eval.yaml; found "rubrics/none.md" (string)`,
      `eval.yaml: tasks[1].solution: no such file: ${dir}/solve.sh; expected a reference solution script, relative to eval.yaml; found "solve.sh" (string)`,
    ]);
  });

  it('stops at problems of the file itself: a `skill:` without SKILL.md', async () => {
    const dir = await skillDir({
      'eval.yaml': `skill: ../elsewhere\ntasks:\n  - {name: a, instruction: hi, graders: [{type: deterministic, run: x}]}\n`,
    });
    const loaded = await loadEvalYaml(join(dir, 'eval.yaml'), { cwd: dir });
    expect(loaded.converted).toEqual([]);
    expect(loaded.problems.map(formatProblem)).toEqual([
      `eval.yaml: skill: no SKILL.md in ${join(dir, '..', 'elsewhere')}; expected a skill folder (holding SKILL.md) or its SKILL.md, relative to eval.yaml; found "../elsewhere" (string)`,
    ]);
  });

  it('warns about what converts but acts per job, or differs on the local provider', async () => {
    const dir = await skillDir({
      'eval.yaml': `tasks:\n  - name: a\n    instruction: hi\n    agent: claude\n    trials: 9\n    workspace: [{content: x, dest: /opt/tool/config}]\n    graders: [{type: deterministic, run: x}]\n`,
    });
    const loaded = await loadEvalYaml(join(dir, 'eval.yaml'), { cwd: dir });
    expect(loaded.warnings.map((w) => w.key)).toEqual(['tasks[0].agent', 'tasks[0].trials', 'tasks[0].workspace']);
    expect(parseToml(fileText(loaded.converted[0]!.files, 'task.toml') ?? '')).toMatchObject({
      metadata: { eval_overrides: { agent: 'claude', trials: 9 } },
    });
  });
});
