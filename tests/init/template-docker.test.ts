/** The template's Dockerfile (FROM skill-eval/base:bookworm) builds and runs: the oracle/nop check on a real engine. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInit } from '../../src/init/init.js';
import { checkTasks } from '../../src/jobs/check-tasks.js';
import { engineGate } from '../environments/docker-engine.js';
import { tempDir } from '../helpers/trials.js';

const run = await engineGate('the init template Docker test (tests/init/template-docker.test.ts)');

describe.runIf(run)('the init template on Docker (real engine)', () => {
  it('builds from the base image; the oracle passes and nop fails in containers', async () => {
    const root = await tempDir('init-docker');
    const skill = join(root, 'docker-skill');
    await mkdir(skill, { recursive: true });
    await writeFile(
      join(skill, 'SKILL.md'),
      '---\nname: docker-skill\ndescription: A skill for the Docker test.\n---\n',
    );
    await runInit({ force: false, count: 3, provider: 'local', resultsDir: 'results', concurrency: 1 }, skill, {
      hostEnv: {},
    });
    const outcome = await checkTasks(
      {
        tasks: [join(skill, 'evals')],
        provider: 'docker',
        trials: 1,
        concurrency: 2,
        resultsDir: join(root, 'results'),
      },
      root,
    );
    expect(outcome.invalid).toEqual([]);
    expect(outcome.checks).toMatchObject([{ task: 'example-task', ok: true, oracle: '1/1 passed', nop: '0/1 passed' }]);
    const result = JSON.parse(
      await readFile(join(outcome.jobDir, 'example-task__oracle__no-skills__1', 'result.json'), 'utf8'),
    ) as { provider: string; status: string };
    expect(result).toMatchObject({ provider: 'docker', status: 'passed' });
  });
});
