import { join } from 'node:path';
import type { Agent, AgentRunResult } from './types.js';

/** Runs the task's reference solution (`solution/solve.sh`, with `[solution].env`). A task the oracle fails is broken. */
export const oracleAgent: Agent = {
  name: 'oracle',
  description: "Runs the task's solution/solve.sh: checks that the task and its verifier work.",
  requiredEnv: [],
  skillDirs: ['.claude/skills', '.agents/skills', '.gemini/skills', '.opencode/skill'],
  usesSolution: true,
  async run(context): Promise<AgentRunResult> {
    const at = new Date().toISOString();
    if (!context.task.paths.solutionDir) {
      const message = 'the task has no solution/solve.sh: the oracle has nothing to run';
      context.log.record({ type: 'note', text: message });
      return { events: [{ type: 'error', at, message }], finalMessage: message, modelCalls: 0 };
    }
    const command = `bash ${join(context.paths.solution, 'solve.sh')}`;
    const result = await context.workspace.exec(command, {
      env: { ...context.task.config.solution.env, ...context.env },
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      user: context.task.config.agent.user,
    });
    context.log.record({
      type: 'command',
      source: 'agent',
      command,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
    });
    return {
      events: [
        {
          type: 'command',
          at,
          command,
          exitCode: result.exitCode,
          stdout: result.stdout,
          stderr: result.stderr,
          durationMs: result.durationMs,
        },
      ],
      finalMessage:
        result.exitCode === 0
          ? 'solve.sh finished'
          : `solve.sh exited with ${result.exitCode ?? result.signal ?? 'no exit code'}`,
      modelCalls: 0,
    };
  },
};
