import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskFormatError } from '../../src/errors.js';
import { loadContract, locateContract, parseContract } from '../../src/targets/contract.js';

const minimal = `
version: 1
scoring: { primary_metric: exact_match_flexible, kind: model_eval }
stages:
  rollout: { driver: qa, with: { dataset: data.jsonl } }
  evaluate: { driver: qa }
`;

function problemsOf(text: string): string[] {
  try {
    parseContract(text, '/t/contract.yaml');
  } catch (error) {
    if (error instanceof TaskFormatError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('contract schema', () => {
  it('fills documented defaults: modes, extractors, security; evaluate inherits the rollout parameters', () => {
    const contract = parseContract(minimal, 'c.yaml');
    expect(contract.modes.smoke).toEqual({ limit: 10, seeds: [0] });
    expect(contract.modes.full.limit).toBeUndefined();
    expect(contract.security).toEqual({ command_timeout_sec: 900, total_timeout_sec: 14400, network: 'any' });
    const rollout = contract.stages.rollout;
    expect(rollout.driver).toBe('qa');
    if (rollout.driver !== 'qa') throw new Error('unreachable');
    expect(rollout.with!.extractors.map((e) => e.name)).toEqual(['strict', 'flexible']);
    expect(rollout.with!.gold).toBe('gsm8k');
    const evaluate = contract.stages.evaluate;
    expect(evaluate.driver === 'qa' && evaluate.with?.dataset).toBe('data.jsonl');
  });

  it('reads a bare list of commands as a command stage, with per-command timeouts, retries, env and workdir', () => {
    const contract = parseContract(
      `
version: 1
scoring: { primary_metric: pass_at_1, kind: repo_tests, official: true }
stages:
  setup: ["npm ci"]
  rollout:
    commands:
      - node gen.mjs
      - { run: node retry.mjs, retries: 2, timeout_sec: 30, env: { A: 1 }, workdir: sub }
  evaluate:
    commands: [node score.mjs]
    score: { file: results/score.json, json_path: summary.pass_at_1, count_path: summary.n }
`,
      'c.yaml',
    );
    expect(contract.stages.setup).toMatchObject({ driver: 'command', commands: [{ run: 'npm ci' }] });
    expect(contract.stages.rollout).toMatchObject({
      driver: 'command',
      commands: [
        { run: 'node gen.mjs' },
        { run: 'node retry.mjs', retries: 2, timeout_sec: 30, env: { A: '1' }, workdir: 'sub' },
      ],
    });
    expect(contract.stages.evaluate).toMatchObject({
      score: { file: 'results/score.json', json_path: 'summary.pass_at_1', scale: 1 },
    });
  });

  it('names the file, the key, what was expected and what was found', () => {
    expect(problemsOf(minimal.replace('kind: model_eval', 'kind: vibes'))).toEqual([
      '/t/contract.yaml: scoring.kind: not an allowed value; expected one of "model_eval", "repo_tests"; found "vibes" (string)',
    ]);
    const unknownDriver = problemsOf(minimal.replace('rollout: { driver: qa', 'rollout: { driver: selenium'));
    expect(unknownDriver).toEqual([
      '/t/contract.yaml: stages.rollout.driver: unknown driver; expected one of command, qa, browser; found "selenium" (string)',
    ]);
    const typo = problemsOf(minimal.replace('dataset: data.jsonl', 'datset: data.jsonl'));
    expect(typo.some((line) => line.includes('stages.rollout.with.datset: unknown key'))).toBe(true);
    expect(typo).toContain(
      '/t/contract.yaml: stages.rollout.with.dataset: missing; expected string; found nothing (the key is missing)',
    );
  });

  it('refuses a command evaluate stage without a score file: a score never comes from an exit code', () => {
    const lines = problemsOf(`
version: 1
scoring: { primary_metric: pass, kind: repo_tests }
stages:
  rollout: [node gen.mjs]
  evaluate: [node score.mjs && echo ok]
`);
    expect(lines).toEqual([
      expect.stringContaining('stages.evaluate.score: a command evaluate stage must name the file its scorer writes'),
    ]);
  });

  it('checks the primary metric against what the driver produces, and regexes compile', () => {
    expect(problemsOf(minimal.replace('exact_match_flexible', 'accuracy'))).toEqual([
      '/t/contract.yaml: scoring.primary_metric: not a metric this contract produces; expected one of exact_match_strict, exact_match_flexible; found "accuracy"',
    ]);
    const bad = problemsOf(
      minimal
        .replace(
          'dataset: data.jsonl',
          'dataset: data.jsonl, extractors: [{ name: strict, type: regex, pattern: "(" }]',
        )
        .replace('exact_match_flexible', 'exact_match_strict'),
    );
    expect(bad[0]).toContain('stages.rollout.with.extractors[0].pattern: not a valid regular expression');
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problemsOf('version: 1\nstages: [\n')[0]).toMatch(
      /^\/t\/contract\.yaml: YAML syntax: .*; expected valid YAML; found line \d+/,
    );
  });

  it('finds the contract: explicit file, then contracts dir by slug, then inside the target', async () => {
    const root = await mkdtemp(join(tmpdir(), 'skill-eval-contract-'));
    const target = join(root, 'bench');
    await mkdir(join(target, '.skill-eval'), { recursive: true });
    await writeFile(join(target, '.skill-eval', 'contract.yaml'), minimal);
    expect(await locateContract({ targetDir: target, slug: 'bench' })).toMatchObject({
      source: 'in-target',
      exists: true,
    });
    await mkdir(join(root, 'contracts', 'bench'), { recursive: true });
    await writeFile(join(root, 'contracts', 'bench', 'contract.yaml'), minimal);
    expect(
      await locateContract({ targetDir: target, slug: 'bench', contractsDir: join(root, 'contracts') }),
    ).toMatchObject({ source: 'contracts-dir', file: join(root, 'contracts', 'bench', 'contract.yaml') });
    const loaded = await loadContract(join(root, 'contracts', 'bench', 'contract.yaml'));
    expect(loaded.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.dir).toBe(join(root, 'contracts', 'bench'));
    await expect(loadContract(join(root, 'missing.yaml'))).rejects.toThrow(
      /missing\.yaml: cannot read the contract; expected a readable contract\.yaml; found ENOENT/,
    );
  });
});
