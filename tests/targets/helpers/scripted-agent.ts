import { readFile } from 'node:fs/promises';
import type { Agent, AgentRunContext } from '../../../src/agents/types.js';

/**
 * A scripted repair agent through the real Agent interface: it reads the contract path from the
 * instruction, applies `fix` to the contract text (or writes `draft` when there is none), and, when
 * asked to misbehave, also edits a file outside the contract dir (which the runner must undo).
 */
export function scriptedRepairAgent(options: {
  fix?: (text: string) => string;
  draft?: string;
  strayWrite?: string;
}): Agent & { calls: AgentRunContext[] } {
  const calls: AgentRunContext[] = [];
  return {
    name: 'scripted-repair',
    description: 'test agent that edits contracts',
    requiredEnv: [],
    skillDirs: [],
    usesSolution: false,
    calls,
    async run(context) {
      calls.push(context);
      const file = /^Contract file: (.+)$/m.exec(context.instruction)?.[1];
      if (!file) throw new Error('no contract path in the instruction');
      const current = await readFile(file, 'utf8').catch(() => undefined);
      const next = current === undefined ? options.draft : options.fix?.(current);
      if (next !== undefined) await context.workspace.writeFile(file, next);
      if (options.strayWrite) await context.workspace.writeFile(options.strayWrite, 'the agent was here\n');
      const result = await context.workspace.exec('ls', { cwd: context.paths.workdir });
      return {
        events: [
          {
            type: 'command',
            at: new Date().toISOString(),
            command: 'ls',
            exitCode: result.exitCode,
            stdout: result.stdout,
          },
        ],
        finalMessage: 'fixed the contract',
        modelCalls: 1,
      };
    },
  };
}
