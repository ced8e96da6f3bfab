import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaskFormatError } from '../../src/errors.js';
import { setup } from '../../src/index.js';
import { parseContract } from '../../src/targets/contract.js';
import { importPipeline, mapVariables } from '../../src/targets/import-pipeline.js';
import { startScriptedChatServer } from '../fixtures/model-servers/openai-chat-scripted.js';
import { respondToFixtures } from '../fixtures/targets/scripted-responder.js';
import { runCli } from '../helpers/cli.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/targets');

describe('pipeline.yml v1 import', () => {
  it('maps stages by role, variables, modes and scoring', async () => {
    const file = join(FIXTURES, 'pipeline-v1', 'pipeline.yml');
    const { text, mapping } = importPipeline(await readFile(file, 'utf8'), file);
    expect(mapping.slice(0, 4)).toEqual([
      'setup (1) → stages.setup',
      'stages[0] generate → stages.rollout (by its name and commands)',
      'stages[1] score → stages.evaluate (by its name and commands)',
      'scoring.results_file/key → stages.evaluate.score {file: ${SKILL_EVAL_ARTIFACTS_DIR}/results.json, json_path: pass_at_1}',
    ]);
    const contract = parseContract(text, 'imported.yaml');
    expect(contract.stages.rollout).toMatchObject({
      driver: 'command',
      commands: [
        {
          run: 'node bench/generate.mjs --out ${SKILL_EVAL_ARTIFACTS_DIR}/samples.jsonl --limit ${SKILL_EVAL_LIMIT}',
          timeout_sec: 600,
          retries: 1,
        },
      ],
      env: { RESULTS_DIR: '${SKILL_EVAL_ARTIFACTS_DIR}' },
    });
    expect(contract.stages.evaluate).toMatchObject({
      score: { file: '${SKILL_EVAL_ARTIFACTS_DIR}/results.json', json_path: 'pass_at_1', count_path: 'n' },
    });
    expect(contract.modes.smoke.limit).toBe(3);
    expect(contract.scoring).toMatchObject({ primary_metric: 'pass_at_1', kind: 'repo_tests', official: true });
    expect(contract.security.total_timeout_sec).toBe(3600);
  });

  it('the imported contract runs code-bench end to end', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'skill-eval-import-')), 'code-bench');
    await cp(join(FIXTURES, 'code-bench'), dir, { recursive: true });
    await rm(join(dir, '.skill-eval', 'contract.yaml'));
    await cp(join(FIXTURES, 'pipeline-v1', 'pipeline.yml'), join(dir, 'pipeline.yml'));
    const run = await runCli(['target', 'import', join(dir, 'pipeline.yml')]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`wrote ${join(dir, '.skill-eval', 'contract.yaml')}`);
    expect((await runCli(['target', 'import', join(dir, 'pipeline.yml')])).stderr).toMatch(/exists/);
    const model = await startScriptedChatServer({ respond: respondToFixtures });
    try {
      const env = await setup({
        target: dir,
        artifactsDir: await mkdtemp(join(tmpdir(), 'skill-eval-artifacts-')),
        baseUrl: model.baseUrl,
      });
      expect((await env.rollout({ llm: 'scripted-model', mode: 'smoke', requireSamples: true })).ok).toBe(true);
      expect(await env.evaluate()).toMatchObject({ ok: true, score: 2 / 3 });
      await env.teardown();
    } finally {
      await model.close();
    }
  });

  it('names what is wrong in the pipeline file', () => {
    const attempt = (text: string): string => {
      try {
        importPipeline(text, 'p.yml');
        return '';
      } catch (error) {
        return (error as TaskFormatError).message;
      }
    };
    expect(attempt('version: 2\nstages: []')).toBe(
      'p.yml: version: only pipeline.yml version 1 can be imported; expected 1; found 2 (number)',
    );
    expect(
      attempt('version: 1\nstages: [{name: gen, run: python gen.py}]\nscoring: {metric: acc, results_file: r.json}'),
    ).toContain('p.yml: stages: no stage scores');
    expect(
      attempt('version: 1\nstages: [{name: gen, run: x, timeot: 5}]\nscoring: {metric: acc, results_file: r.json}'),
    ).toContain('p.yml: stages[0].timeot: unknown key');
  });

  it('maps the runner variables and placeholders', () => {
    expect(mapVariables('$MODEL ${BASE_URL} {output_dir}/x $HOME {other}')).toBe(
      '${SKILL_EVAL_MODEL} ${SKILL_EVAL_MODEL_BASE_URL} ${SKILL_EVAL_ARTIFACTS_DIR}/x $HOME {other}',
    );
  });
});

describe('target CLI', () => {
  it('target hints prints file:line and anchors; --json is machine-readable', async () => {
    const text = await runCli(['target', 'hints', join(FIXTURES, 'code-bench')]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(
      '[eval] README.md:24  node bench/score.mjs --samples samples.jsonl --out results/score.json',
    );
    expect(text.stdout).toContain('anchors: bench/score.mjs');
    const json = JSON.parse((await runCli(['target', 'hints', join(FIXTURES, 'code-bench'), '--json'])).stdout);
    expect(json.anchors).toEqual(['bench/score.mjs']);
  });

  it('target validate lists contract problems with exit 2', async () => {
    const ok = await runCli(['target', 'validate', join(FIXTURES, 'code-bench')]);
    expect(ok.stdout).toMatch(/contract\.yaml: ok \(command rollout, command evaluate, primary metric pass_at_1\)/);
    const bad = await runCli([
      'target',
      'validate',
      join(FIXTURES, 'qa-hf'),
      '--contract',
      join(FIXTURES, 'pipeline-v1', 'pipeline.yml'),
    ]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/pipeline\.yml: (setup|stages|scoring|env|timeout)/);
  });
});
