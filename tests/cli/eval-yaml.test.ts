import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';

const SUPERLINT = join(FIXTURES, 'evalyaml', 'superlint');

/**
 * The superlint skill whose eval.yaml defaults to the oracle, locally, 2 trials; its llm_rubric grader left out
 * (a judge needs a key: tests/cli/skill-first.test.ts has one, answered by a scripted server).
 */
async function oracleSkill(): Promise<string> {
  const root = await tempDir('eval-yaml');
  const dir = join(root, 'superlint');
  await cp(SUPERLINT, dir, { recursive: true });
  const yaml = await readFile(join(dir, 'eval.yaml'), 'utf8');
  await writeFile(
    join(dir, 'eval.yaml'),
    yaml
      .replace('agent: gemini', 'agent: oracle')
      .replace('provider: docker', 'provider: local')
      .replace('trials: 5', 'trials: 2')
      .replace(/\n {6}- type: llm_rubric[\s\S]*?weight: 0\.3\n/, '\n'),
  );
  return dir;
}

describe('skill-eval eval <eval.yaml>', () => {
  it('runs each eval as a task, with eval.yaml’s defaults where no flag is given', async () => {
    const dir = await oracleSkill();
    // The CLI runs from the repository (where tsx resolves), so the results dir is given.
    const run = await runCli(['eval', dir, `--results-dir=${join(dir, 'results')}`, '--quiet', '--json']);
    const summary = JSON.parse(run.stdout);
    expect(summary.job_dir.startsWith(join(dir, 'results', 'jobs'))).toBe(true);
    const job = JSON.parse(await readFile(join(summary.job_dir, 'job.json'), 'utf8'));
    expect(job).toMatchObject({ provider: 'local', trials: 2, agents: [{ name: 'oracle' }] });
    // A skill folder: a skill-first run, both arms.
    expect(job.arms).toEqual(['with-skills', 'no-skills']);
    expect(job.tasks[0].name).toBe('fix-linting-errors');
    expect(job.tasks[0].dir.startsWith(join(dir, 'results', '.converted'))).toBe(true);
    expect(await readdir(join(dir, 'results', '.converted'))).toHaveLength(1);
  });

  it('lets a flag on the command line win over eval.yaml’s defaults', async () => {
    const dir = await oracleSkill();
    const results = `--results-dir=${join(dir, 'results')}`;
    const run = await runCli([
      'eval',
      join(dir, 'eval.yaml'),
      results,
      '--trials=1',
      '--agent=nop',
      '--quiet',
      '--json',
    ]);
    const job = JSON.parse(await readFile(join(JSON.parse(run.stdout).job_dir, 'job.json'), 'utf8'));
    expect(job).toMatchObject({ provider: 'local', trials: 1, agents: [{ name: 'nop' }] });
  });
});
