import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/task/types.js';
import { expectSkillWorkflow, loadSuperlint, runAgentTrial, superlintSkillMarker } from '../agents/harness.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { tempDir } from '../helpers/trials.js';
import { AGENTS, CLIS, expectThroughGateway, seeingAgent, upstreamFor } from './trial-helpers.js';

/**
 * The four real CLIs through their trials' model gateways on the local provider (bubblewrap; superlint_demo is
 * offline, so each agent's sandbox has loopback only and reaches the gateway through the forwarder), each against
 * its scripted server as the upstream: the workflow passes, usage is the server's, every call is recorded, and
 * the real key is nowhere the agent could see.
 */
describe('agent CLIs through the model gateway (local provider)', () => {
  let task: Task;
  let marker: string;
  let server: ModelServer | undefined;

  beforeAll(async () => {
    for (const cli of CLIS) await AGENTS[cli].install!({ log: () => undefined });
    task = await loadSuperlint();
    marker = await superlintSkillMarker();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  for (const cli of CLIS) {
    it(`${cli}: solves the task with the skill through the gateway; the key stays on the host`, async () => {
      const upstream = await upstreamFor(cli, marker);
      server = upstream.server;
      const seenDir = join(await tempDir(`gw-seen-${cli}`), 'seen');
      const run = await runAgentTrial({
        agent: seeingAgent(AGENTS[cli], seenDir),
        task,
        arm: 'with-skills',
        model: cli === 'opencode' ? 'gpt-5' : undefined,
        env: upstream.env,
        gateway: {},
      });
      expectSkillWorkflow(run, server);
      await expectThroughGateway({ cli, result: run.result, trialDir: run.trialDir, server, seenDir });
      // Offline task: no command of the agent kept the host's network.
      expect(run.result.limits?.network).toBe('enforced');
    }, 240_000);
  }
});
