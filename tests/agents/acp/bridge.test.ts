import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcpAgent } from '../../../src/agents/acp/agent.js';
import { SANDBOX_BIND_ENV } from '../../../src/environments/local/sandbox.js';
import { loadTaskOrThrow } from '../../../src/task/load.js';
import type { Task } from '../../../src/task/types.js';
import { shellJoin } from '../../../src/util/shell.js';
import { FIXTURES, REPO_ROOT } from '../../helpers/trials.js';
import { JOB_FIXTURES } from '../../jobs/helpers.js';
import { agentCommands, runAgentTrial } from '../harness.js';

/**
 * The bridge against a tiny agent written on the SDK's agent side (tests/fixtures/acp/tiny-agent.mjs), over real
 * stdio, in the local sandbox, through the whole trial lifecycle on the trivial fixture task (solved by
 * `touch solved.txt`): the protocol's edges a real agent does not reliably show.
 */
const agent = createAcpAgent({ command: shellJoin(['node', join(FIXTURES, 'acp', 'tiny-agent.mjs')]) });

describe('ACP bridge (with a tiny SDK agent)', () => {
  let task: Task;
  const previousBind = process.env[SANDBOX_BIND_ENV];

  beforeAll(async () => {
    // The sandbox shows the fixture and the SDK it imports (this checkout's node_modules) read-only.
    process.env[SANDBOX_BIND_ENV] = REPO_ROOT;
    await agent.install!({ log: () => undefined });
    task = await loadTaskOrThrow(join(JOB_FIXTURES, 'trivial'));
  });

  afterAll(() => {
    if (previousBind === undefined) delete process.env[SANDBOX_BIND_ENV];
    else process.env[SANDBOX_BIND_ENV] = previousBind;
  });

  it('approves the permission, runs the terminals in the environment, records commands, messages and the plan', async () => {
    const run = await runAgentTrial({ agent, task, arm: 'no-skills', env: { TINY_AGENT_MODE: 'solve' } });
    expect(run.result.error, JSON.stringify(run.result.error)).toBeUndefined();
    expect(run.result.status).toBe('passed');
    const commands = agentCommands(run.log);
    expect(commands.map((c) => [c.command, c.exitCode])).toEqual([
      ["bash -c 'echo 0123456789abcdef-tail; exit 4'", 4],
      [expect.stringMatching(/touch solved\.txt$/), 0],
    ]);
    // The event keeps the whole output; the agent got what it asked for: the last 16 bytes, marked truncated.
    expect(commands[0]?.stdout).toBe('0123456789abcdef-tail\n');
    const seen = JSON.parse(await readFile(join(run.trialDir, 'agent', 'checks.json'), 'utf8'));
    expect(seen).toEqual({
      exit: { exitCode: 4, signal: null },
      output: { output: '6789abcdef-tail\n', truncated: true, exitStatus: { exitCode: 4, signal: null } },
    });
    // The tool call whose command ran in a terminal is that command, not a second event.
    expect(run.log.filter((e) => e.type === 'tool_call')).toEqual([]);
    const notes = run.log.flatMap((e) => (e.type === 'note' ? [e.text] : []));
    expect(notes).toEqual(
      expect.arrayContaining([
        'acp: agent tiny-agent 0.0.1',
        'acp: permission auto-approved (yes): Run the checks',
        'acp: plan: [completed] solve it',
        'acp: prompt ended: end_turn',
      ]),
    );
    const messages = run.log.flatMap((e) => (e.type === 'message' ? [e.text] : []));
    expect(messages).toEqual(['Solving the task.', 'All done.']);
    expect(run.result.agent_result?.final_message).toBe('All done.');
    expect(run.result.usage).toBeUndefined();
    expect(existsSync(join(run.trialDir, 'agent', 'acp.stdout.jsonl'))).toBe(true);
  });

  it('an agent that dies in the middle of the prompt is the agent’s error, verified anyway', async () => {
    const run = await runAgentTrial({ agent, task, arm: 'no-skills', env: { TINY_AGENT_MODE: 'crash' } });
    expect(run.result.status, JSON.stringify(run.result.error)).toBe('agent_error');
    expect(run.result.error?.message).toMatch(/acp failed: the ACP agent exited \(code 3\) before the prompt ended/);
    expect(run.result.error?.retryable).toBe(false);
    expect(run.result.reward).toBe(0);
  });

  it('on the agent timeout the agent receives session/cancel before it is stopped', async () => {
    const started = Date.now();
    const run = await runAgentTrial({
      agent,
      task,
      arm: 'no-skills',
      env: { TINY_AGENT_MODE: 'hang' },
      agentTimeoutSec: 2,
    });
    expect(run.result.status).toBe('agent_timeout');
    expect(Date.now() - started).toBeLessThan(20_000);
    const seen = await readFile(join(run.trialDir, 'agent', 'cancel-seen.txt'), 'utf8');
    expect(seen.trim()).toMatch(/\/app$/);
  });
});
