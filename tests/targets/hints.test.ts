import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anchorsOf,
  classifyCommand,
  mineHints,
  mineMakefile,
  mineMarkdown,
  minePyproject,
  mineWorkflow,
} from '../../src/targets/hints.js';

const CODE_BENCH = resolve(import.meta.dirname, '../fixtures/targets/code-bench');

describe('hint mining', () => {
  it('finds the code-bench commands in README, CI, Makefile and package.json, with file:line and class', async () => {
    const report = await mineHints(CODE_BENCH);
    const summary = report.hints.map((h) => `${h.class} ${h.file}:${h.line} ${h.command}`);
    expect(summary).toEqual([
      'setup README.md:9 npm install',
      'other README.md:17 export OPENAI_BASE_URL=http://localhost:8000/v1',
      'generate README.md:18 node bench/generate.mjs --out samples.jsonl',
      'eval README.md:24 node bench/score.mjs --samples samples.jsonl --out results/score.json',
      'setup .github/workflows/ci.yml:11 npm install',
      'test .github/workflows/ci.yml:13 node --test tests/',
      'eval .github/workflows/ci.yml:16 node bench/score.mjs --samples tests/reference-samples.jsonl --out results/reference.json',
      'other .github/workflows/ci.yml:18 cat results/reference.json',
      'eval Makefile:1 make score',
      'test Makefile:4 make test',
      'test package.json:6 npm run test',
      'generate package.json:7 npm run generate',
      'eval package.json:8 npm run score',
    ]);
    // Anchors: the scorer script, never prose, JSON output or the citation.
    expect(report.anchors).toEqual(['bench/score.mjs']);
  });

  it('is deterministic', async () => {
    expect(await mineHints(CODE_BENCH)).toEqual(await mineHints(CODE_BENCH));
  });

  it('reads only shell fences; console blocks only at prompts; joins continuation lines', () => {
    const md = [
      '```python',
      'import os',
      '```',
      '```console',
      '$ lm_eval --model hf \\',
      '    --tasks gsm8k',
      'output line',
      '```',
      '```',
      'Some words here that are prose.',
      'pytest -q',
      '```',
    ].join('\n');
    const hints = mineMarkdown(md, 'README.md', 'readme');
    expect(hints.map((h) => [h.line, h.command, h.class])).toEqual([
      [5, 'lm_eval --model hf --tasks gsm8k', 'eval'],
      [11, 'pytest -q', 'test'],
    ]);
  });

  it('reads inline and block run: steps of workflows', () => {
    const yml = [
      'steps:',
      '  - run: pip install -e .',
      '  - name: eval',
      '    run: |',
      '      python -m bench.evaluate --split test',
      '      echo done',
      '  - uses: x',
    ].join('\n');
    expect(mineWorkflow(yml, 'ci.yml').map((h) => [h.line, h.command, h.class])).toEqual([
      [2, 'pip install -e .', 'setup'],
      [5, 'python -m bench.evaluate --split test', 'eval'],
      [6, 'echo done', 'other'],
    ]);
  });

  it('reads Makefile targets and pyproject scripts', () => {
    expect(
      mineMakefile('eval: build\n\tpython eval.py\nbuild:\n\tgcc x.c\n', 'Makefile').map((h) => [
        h.command,
        h.class,
        h.detail,
      ]),
    ).toEqual([
      ['make eval', 'eval', 'python eval.py'],
      ['make build', 'other', 'gcc x.c'],
    ]);
    expect(minePyproject('[project.scripts]\nbench-score = "bench.score:main"\n', 'pyproject.toml')).toEqual([
      {
        command: 'bench-score',
        file: 'pyproject.toml',
        line: 2,
        source: 'pyproject',
        class: 'eval',
        detail: 'bench.score:main',
      },
    ]);
  });

  it('classifies and anchors', () => {
    expect(classifyCommand('pip install -r requirements.txt')).toBe('setup');
    expect(classifyCommand('python generate_predictions.py')).toBe('generate');
    expect(anchorsOf('python -m lm_eval.harness --tasks gsm8k --output results.json')).toEqual(['lm_eval.harness']);
    expect(anchorsOf('bigcode-eval --model x')).toEqual(['bigcode-eval']);
  });
});
