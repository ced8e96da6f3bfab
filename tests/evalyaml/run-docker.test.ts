/** A converted eval on the Docker provider, against a real engine (node:20-slim cannot be pulled here: our base image). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDocker } from '../../src/environments/cleanup.js';
import { createDockerProvider, type DockerHandle } from '../../src/environments/docker.js';
import type { Workspace } from '../../src/environments/types.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { BASE_IMAGE, engineGate, uniqueId } from '../environments/docker-engine.js';
import { trivialJobOptions } from '../jobs/helpers.js';
import { convertedSuperlint, freshWorkspace, runGrader, runSolution } from './helpers.js';

const run = await engineGate('the converted eval.yaml on Docker (tests/evalyaml/run-docker.test.ts)');
const JOB = uniqueId('test-evalyaml');
const workspaces: Workspace[] = [];
const images = new Set<string>();

describe.runIf(run)('a converted eval on the Docker provider', () => {
  afterAll(async () => {
    for (const workspace of workspaces) await workspace.dispose();
    await cleanupDocker({ jobId: JOB, force: true });
    for (const image of images)
      await new Docker()
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('builds the Dockerfile; its deterministic grader scores the oracle’s solution 1 and the untouched workspace 0', async () => {
    const { task } = await convertedSuperlint(BASE_IMAGE);
    const provider = createDockerProvider();
    const track = (handle: unknown): void => void images.add((handle as DockerHandle).image);
    const solved = await freshWorkspace(provider, task, JOB, track);
    const untouched = await freshWorkspace(provider, task, JOB, track);
    workspaces.push(solved, untouched);
    const found = await solved.exec('pwd && cat app.js && test -x /usr/local/bin/superlint && echo executable');
    expect(found.stdout).toBe('/workspace\nvar greeting = "hello world";\nconsole.log(greeting);\nexecutable\n');
    expect(await runSolution(solved, task)).toContain('superlint: verified');
    expect(await runGrader(solved, task)).toMatchObject({
      score: 1,
      checks: [
        { name: 'superlint-passed', passed: true },
        { name: 'code-fixed', passed: true },
      ],
    });
    expect(await runGrader(untouched, task)).toMatchObject({ score: 0 });
    // Graders reach the container only at verification: the image holds none of tests/ or solution/.
    const clean = await untouched.exec('ls /tests /solution 2>&1; ls -A /workspace');
    expect(clean.stdout).not.toContain('deterministic.sh');
    expect(clean.stdout).not.toContain('solve.sh');
  }, 120_000);

  it('runs as a task of a job: the oracle’s solve.sh works in the trial', async () => {
    const { task, results } = await convertedSuperlint(BASE_IMAGE);
    const plan = await planEval(
      trivialJobOptions(results, { tasks: [task.dir], provider: createDockerProvider(), jobName: JOB }),
      results,
    );
    const outcome = await runEvalJob(plan);
    const session = await readFile(join(plan.jobDir, `${task.name}__oracle__no-skills__1`, 'session.jsonl'), 'utf8');
    const solve = session
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((event) => event.type === 'command' && event.source === 'agent');
    expect(solve).toMatchObject({ exitCode: 0 });
    expect(solve.stdout).toContain('superlint: verified');
    // The eval's deterministic grader scored it: no tests/test.sh, the [[graders]] alone.
    expect(outcome.results[0]).toMatchObject({ status: 'passed', reward: 1 });
  }, 120_000);
});
