import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/environments/docker.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { engineGate } from '../environments/docker-engine.js';
import { startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { FIXTURES, loadFixtureTask, runOne, tempDir } from '../helpers/trials.js';

const runs = await engineGate('graders on the Docker provider');
const SECRET = 'sk-ant-docker-judge-5566778899';

describe.runIf(runs)('graders on the Docker provider', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startAnthropicServer((view) => ({
      kind: 'text',
      text: JSON.stringify({ score: view.text.includes('Added (1): hello.txt') ? 1 : 0, reasoning: 'scripted' }),
    }));
  });
  afterAll(async () => server.close());

  it('runs the deterministic grader in the container after the tests, the judge on the host', async () => {
    const { result, trialDir } = await runOne({
      provider: createDockerProvider(),
      task: await loadFixtureTask('graders'),
      judge: { env: { ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: server.url } },
    });
    expect(result.error).toBeUndefined();
    expect(result.graders?.map((g) => [g.name, g.score])).toEqual([
      ['tests', 1],
      ['checks', 0.5],
      ['approach', 1],
    ]);
    expect(result.graders?.[1]?.details).toBe('hello.txt exists: true');
    expect(result.reward).toBeCloseTo(0.5 + 0.15 + 0.2, 10);
    expect(await scanForSecrets(trialDir, [SECRET])).toEqual([]);
  }, 60_000);

  it('runs a task whose graders have no verifier and which has no tests/test.sh', async () => {
    const dir = join(await tempDir('graders-docker'), 'graders');
    await cp(join(FIXTURES, 'lifecycle', 'graders'), dir, { recursive: true });
    const toml = await readFile(join(dir, 'task.toml'), 'utf8');
    await writeFile(join(dir, 'task.toml'), toml.replace(/\[\[graders\]\]\ntype = "verifier"\n[^[]*/, ''));
    await rm(join(dir, 'tests', 'test.sh'));
    const { result } = await runOne({
      provider: createDockerProvider(),
      task: await loadTaskOrThrow(dir),
      judge: { env: { ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: server.url } },
    });
    expect(result.error).toBeUndefined();
    expect(result.graders?.map((g) => [g.name, g.score])).toEqual([
      ['checks', 0.5],
      ['approach', 1],
    ]);
    expect(result.reward).toBeCloseTo((0.15 + 0.2) / 0.5, 10);
  }, 60_000);
});
