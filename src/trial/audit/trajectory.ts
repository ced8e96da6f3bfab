import { readFileSync } from 'node:fs';
import type { AgentEvent } from '../../agents/types.js';
import { sessionEntries } from '../../util/session-log.js';

/** One step of what the agent did, as text: what it asked for (input) and what it got back (output). */
export interface Step {
  input: string;
  output: string;
  /** The tool the step called (`Skill`, `activate_skill`, `Bash`, …), or the skill a `skill` event named. */
  tool?: string | undefined;
  skill?: string | undefined;
}

/** The agent's reported events as steps; messages are the agent talking, not acting, and are left out. */
export function stepsFromEvents(events: readonly AgentEvent[]): Step[] {
  const steps: Step[] = [];
  for (const event of events) {
    if (event.type === 'command')
      steps.push({ input: event.command, output: `${event.stdout ?? ''}\n${event.stderr ?? ''}` });
    else if (event.type === 'tool_call')
      steps.push({ input: stringify(event.input), output: event.output ?? '', tool: event.tool });
    else if (event.type === 'skill') steps.push({ input: event.how, output: '', skill: event.skill });
  }
  return steps;
}

/**
 * The same steps read back from session.jsonl, for an agent that reported nothing (it timed out or crashed):
 * its harness logged what it did as it went.
 */
export function stepsFromSessionLog(path: string): Step[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const steps: Step[] = [];
  for (const entry of sessionEntries(text)) {
    if (entry.type === 'command' && entry.source === 'agent')
      steps.push({ input: String(entry.command ?? ''), output: `${entry.stdout ?? ''}\n${entry.stderr ?? ''}` });
    else if (entry.type === 'tool_call')
      steps.push({ input: stringify(entry.input), output: String(entry.output ?? ''), tool: String(entry.tool) });
  }
  return steps;
}

function stringify(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Tools whose only job is opening a skill (Claude Code's `Skill`, Gemini CLI's `activate_skill`). */
export const SKILL_TOOL = /^(?:skill|activate_skill)$/i;

/** Matches `SKILL.md` and the skill folders' paths (`.claude/skills`, …) in a step's text. */
export function skillMarkers(skillDirs: readonly string[]): RegExp {
  const dirs = skillDirs
    .map((dir) => dir.replace(/^~\//, '').replace(/\/+$/, ''))
    .filter((dir) => dir.includes('/'))
    .map((dir) => dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(['SKILL\\.md', ...dirs].join('|'), 'i');
}
