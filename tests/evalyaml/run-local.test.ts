import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/environments/local.js';
import type { Workspace } from '../../src/environments/types.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { trivialJobOptions } from '../jobs/helpers.js';
import { convertedSuperlint, freshWorkspace, runGrader, runSolution } from './helpers.js';

const workspaces: Workspace[] = [];
afterEach(async () => {
  for (const workspace of workspaces.splice(0)) await workspace.dispose();
});

describe('a converted eval on the local provider', () => {
  it('puts the workspace files where the agent looks: app.js in the workdir, superlint on PATH and executable', async () => {
    const { task } = await convertedSuperlint('node:20-slim');
    const workspace = await freshWorkspace(createLocalProvider(), task, 'evalyaml-local');
    workspaces.push(workspace);
    const found = await workspace.exec('cat app.js && command -v superlint && test -x "$(command -v superlint)"');
    expect(found.exitCode, found.stderr).toBe(0);
    expect(found.stdout).toContain('var greeting = "hello world";');
    expect(found.stdout).toMatch(/\/usr\/local\/bin\/superlint\n$/);
  });

  it('its deterministic grader scores the oracle’s solution 1 and the untouched workspace 0', async () => {
    const { task } = await convertedSuperlint('node:20-slim');
    const provider = createLocalProvider();
    const solved = await freshWorkspace(provider, task, 'evalyaml-local');
    const untouched = await freshWorkspace(provider, task, 'evalyaml-local');
    workspaces.push(solved, untouched);
    expect(await runSolution(solved, task)).toContain('superlint: verified');
    expect(await runGrader(solved, task)).toMatchObject({
      score: 1,
      checks: [
        { name: 'superlint-passed', passed: true },
        { name: 'code-fixed', passed: true },
      ],
    });
    expect(await runGrader(untouched, task)).toMatchObject({ score: 0 });
  });

  it('runs as a task of a job: the oracle’s solve.sh works in the trial', async () => {
    const { task, results } = await convertedSuperlint('node:20-slim');
    const plan = await planEval(trivialJobOptions(results, { tasks: [task.dir] }), results);
    expect(plan.tasks.map((t) => [t.name, t.checksum])).toEqual([[task.name, task.checksum]]);
    const outcome = await runEvalJob(plan);
    const [result] = outcome.results;
    const session = await readFile(join(plan.jobDir, `${task.name}__oracle__no-skills__1`, 'session.jsonl'), 'utf8');
    const solve = session
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((event) => event.type === 'command' && event.source === 'agent');
    expect(solve).toMatchObject({ exitCode: 0 });
    expect(solve.stdout).toContain('superlint: verified');
    // The eval's deterministic grader scored it: no tests/test.sh, the [[graders]] alone.
    expect(result).toMatchObject({ status: 'passed', reward: 1 });
    expect(result?.graders?.map((g) => [g.type, g.score])).toEqual([['deterministic', 1]]);
  });
});
