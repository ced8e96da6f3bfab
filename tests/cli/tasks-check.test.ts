import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeTask } from '../../src/jobs/check-tasks.js';
import { startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
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

  it('--repeat runs the oracle N times and flags a verifier that passes it only sometimes as BROKEN', async () => {
    const args = ['tasks', 'check', join(FIXTURES, 'check-flaky'), '--provider=local'];
    // One run cannot tell: the flaky verifier passes the oracle's first run.
    const once = await runCli([...args, `--results-dir=${await tempDir('check-once')}`]);
    expect(once.exitCode).toBe(0);
    const repeated = await runCli([...args, '--repeat=3', `--results-dir=${await tempDir('check-repeat')}`]);
    expect(repeated.exitCode).toBe(2);
    expect(repeated.stdout).toMatch(
      /flaky \| 2\/3 passed\s+\| 0\/3 passed\s+\| BROKEN: flaky verifier: the oracle passed 2 of 3 runs/,
    );
    const json = await runCli([...args, '--repeat=2', '--json', `--results-dir=${await tempDir('check-repeat-json')}`]);
    const report = JSON.parse(json.stdout) as { tasks: Array<{ ok: boolean; flaky?: unknown }> };
    expect(report.tasks[0]).toMatchObject({ ok: false, flaky: { passed: 1, runs: 2 } });
  });

  it('refuses --repeat 0', async () => {
    const run = await runCli(['tasks', 'check', join(FIXTURES, 'check-flaky'), '--repeat=0']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--repeat: expected a positive whole number, found "0"');
  });

  it('judges an oracle that passes some runs as flaky, one that passes none as broken', () => {
    const oracle = { task: 't', agent: 'oracle', arm: 'no-skills', trials: 4, passed: 3, failed: 1, errors: 0 };
    const nop = { ...oracle, agent: 'nop', passed: 0, failed: 4 };
    expect(judgeTask('t', oracle, nop)).toMatchObject({ ok: false, flaky: { passed: 3, runs: 4 } });
    expect(judgeTask('t', { ...oracle, passed: 0, failed: 4 }, nop).flaky).toBeUndefined();
    expect(judgeTask('t', { ...oracle, passed: 4, failed: 0 }, nop)).toMatchObject({ ok: true, problems: [] });
  });

  it('judges error-only cells as broken, not as passing', () => {
    const cell = { task: 't', agent: 'nop', arm: 'no-skills', trials: 1, passed: 0, failed: 0, errors: 1 };
    expect(judgeTask('t', { ...cell, agent: 'oracle', passed: 1, errors: 0 }, cell).problems).toEqual([
      'nop ended in errors: the verifier cannot judge the untouched environment',
    ]);
  });

  it('reports each rubric on oracle vs nop and flags one that cannot tell them apart', async () => {
    // The judge scores by what it is shown: hello.txt added (the oracle) or nothing changed (nop).
    let flat = false;
    const server = await startAnthropicServer((view) => {
      const score = flat ? 0.5 : view.text.includes('Added (1): hello.txt') ? 0.9 : 0.1;
      return { kind: 'text', text: JSON.stringify({ score, reasoning: 'scripted' }) };
    });
    const env = { ANTHROPIC_API_KEY: 'sk-ant-check-123456789', ANTHROPIC_BASE_URL: server.url };
    const check = async () =>
      runCli(
        [
          'tasks',
          'check',
          join(FIXTURES, 'lifecycle', 'graders'),
          '--provider=local',
          '--pass-threshold=0.8',
          `--results-dir=${await tempDir('check-rubric')}`,
          '--json',
        ],
        { env },
      );
    try {
      const calibrated = await check();
      expect(calibrated.exitCode).toBe(0);
      const report = JSON.parse(calibrated.stdout) as { rubrics: unknown[]; tasks: Array<{ ok: boolean }> };
      expect(report.rubrics).toEqual([{ task: 'graders', grader: 'approach', oracle: 0.9, nop: 0.1, ok: true }]);
      flat = true;
      const uncalibrated = await check();
      expect(uncalibrated.exitCode).toBe(2);
      const flagged = JSON.parse(uncalibrated.stdout) as { tasks: Array<{ ok: boolean; problems: string[] }> };
      expect(flagged.tasks[0]?.problems.at(-1)).toMatch(
        /rubric "approach" cannot tell the solution from an untouched environment/,
      );
    } finally {
      await server.close();
    }
  });

  it('stops before any trial when a rubric has no judge key', async () => {
    const run = await runCli(
      [
        'tasks',
        'check',
        join(FIXTURES, 'lifecycle', 'graders'),
        '--provider=local',
        `--results-dir=${await tempDir('check-nokey')}`,
      ],
      { env: { ANTHROPIC_API_KEY: '' } },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(
      /task graders: grader "approach" judges with anthropic\/claude-judge-test, which needs ANTHROPIC_API_KEY/,
    );
  });
});
