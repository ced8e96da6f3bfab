import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/environments/docker.js';
import type { ImageLayer, PreparedEnvironment } from '../../src/environments/types.js';
import { gatewayNodeLayer } from '../../src/gateway/forwarder-layer.js';
import type { Task } from '../../src/task/types.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';
import { expectSkillWorkflow, loadSuperlint, readSessionLog, superlintSkillMarker } from '../agents/harness.js';
import { engineGate } from '../environments/docker-engine.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { tempDir } from '../helpers/trials.js';
import { AGENTS, CLIS, expectThroughGateway, seeingAgent, upstreamFor } from './trial-helpers.js';

const runDocker = await engineGate('agent CLIs through the gateway in Docker');

/**
 * The four CLIs in Docker through their gateways, on superlint_demo as it is: allow_internet = false, so the
 * container has network none and no --network; the scripted server on the host's loopback is reachable only
 * through the gateway's socket. The key never enters the container.
 */
describe.runIf(runDocker)('agent CLIs through the model gateway (Docker, offline task)', () => {
  let task: Task;
  let marker: string;
  const servers: ModelServer[] = [];

  beforeAll(async () => {
    task = await loadSuperlint();
    expect(task.config.environment.allowInternet).toBe(false);
    marker = await superlintSkillMarker();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  for (const cli of CLIS) {
    it(`${cli}: solves the task with the skill offline; the key stays on the host`, async () => {
      const agent = AGENTS[cli];
      const upstream = await upstreamFor(cli, marker);
      servers.push(upstream.server);
      const provider = createDockerProvider({ killGraceMs: 500 });
      const log = () => undefined;
      const layers: ImageLayer[] = [await agent.imageLayer!({ log }), await gatewayNodeLayer({ log })];
      let prepared: Promise<PreparedEnvironment> | undefined;
      const trialDir = join(await tempDir('gw-docker-trial'), cli);
      const seenDir = join(await tempDir(`gw-docker-seen-${cli}`), 'seen');
      const result = await runTrial(
        {
          jobId: 'gw-docker',
          task,
          agent: seeingAgent(agent, seenDir),
          model: cli === 'opencode' ? 'gpt-5' : undefined,
          arm: 'with-skills',
          trialIndex: 1,
        },
        {
          provider,
          prepare: () => (prepared ??= provider.prepare(task, { jobId: 'gw-docker', forceBuild: false, log, layers })),
          trialDir,
          env: upstream.env,
          redactor: new Redactor(Object.values(upstream.env)),
          gateway: {},
        },
      );
      expectSkillWorkflow({ result, log: await readSessionLog(trialDir) }, upstream.server);
      await expectThroughGateway({ cli, result, trialDir, server: upstream.server, seenDir });
      expect(result.limits?.network).toBe('enforced');
    }, 600_000);
  }
});
