import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeTask } from '../../src/jobs/check-tasks.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';

describe('skill-eval tasks check', () => {
  it('reports tasks whose oracle fails or whose verifier passes under nop, and exits 2', async () => {
    const results = await tempDir('check');
    const run = await runCli([
      'tasks',
      'check',
      join(FIXTURES, 'check'),
      '--provider=local',
      `--results-dir=${results}`,
      '--json',
    ]);
    expect(run.exitCode).toBe(2);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      tasks: Array<{ task: string; ok: boolean; problems: string[] }>;
    };
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.tasks.map((t) => [t.task, t]));
    expect(byName.healthy!.ok).toBe(true);
    expect(byName['rewards-nothing-done']!.problems).toEqual([
      'nop passed: the verifier rewards the untouched environment',
    ]);
    const [problem, detail] = byName['broken-solution']!.problems;
    expect(problem).toBe('oracle did not pass every trial: the solution or the verifier is broken');
    // Why, and where to look: the failing oracle trial's verifier output.
    expect(detail).toMatch(/^oracle trial failed, reward 0 \(see .*broken-solution__oracle__no-skills__1\/verifier\)$/);
  });

  it('exits 0 when every task is healthy', async () => {
    const run = await runCli([
      'tasks',
      'check',
      join(FIXTURES, 'check', 'healthy'),
      '--provider=local',
      `--results-dir=${await tempDir('check-ok')}`,
    ]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/healthy \| 1\/1 passed\s+\| 0\/1 passed\s+\| ok/);
  });

  it('judges error-only cells as broken, not as passing', () => {
    const cell = { task: 't', agent: 'nop', arm: 'no-skills', trials: 1, passed: 0, failed: 0, errors: 1 };
    expect(judgeTask('t', { ...cell, agent: 'oracle', passed: 1, errors: 0 }, cell).problems).toEqual([
      'nop ended in errors: the verifier cannot judge the untouched environment',
    ]);
  });
});
