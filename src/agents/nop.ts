import type { Agent } from './types.js';

/** Does nothing. A task whose verifier passes under `nop` is broken: it rewards the untouched starting state. */
export const nopAgent: Agent = {
  name: 'nop',
  description: 'Does nothing: a task that passes under nop is broken.',
  requiredEnv: [],
  skillDirs: ['.claude/skills', '.agents/skills', '.gemini/skills', '.opencode/skill'],
  usesSolution: false,
  async run(context) {
    context.log.record({ type: 'note', text: 'nop agent: no action taken' });
    return { events: [], finalMessage: '', modelCalls: 0 };
  },
};
