import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent, AgentRunResult } from '../agents/types.js';
import type { WorkspaceDiff } from '../graders/workspace-diff.js';
import { sessionEntries } from '../util/session-log.js';

/**
 * What a stored trial's judges saw, for grading it again: the agent's steps from its session.jsonl (commands it
 * ran, tool calls, messages: already redacted) and the workspace diff the trial kept. Missing files give nothing.
 */
export function storedAgentResult(trialDir: string): AgentRunResult | undefined {
  let text: string;
  try {
    text = readFileSync(join(trialDir, 'session.jsonl'), 'utf8');
  } catch {
    return undefined;
  }
  const events = sessionEntries(text).flatMap((entry) => asAgentEvent(entry) ?? []);
  return { events };
}

function asAgentEvent(entry: Record<string, unknown>): AgentEvent | undefined {
  const at = String(entry.at ?? '');
  if (entry.type === 'command' && entry.source === 'agent') {
    const { command, exitCode, stdout, stderr, durationMs } = entry;
    return defined({ type: 'command', at, command, exitCode, stdout, stderr, durationMs }) as AgentEvent;
  }
  if (entry.type === 'tool_call') {
    const { tool, input, output, exitCode, isError } = entry;
    return defined({ type: 'tool_call', at, tool, input, output, exitCode, isError }) as AgentEvent;
  }
  if (entry.type === 'message') {
    const role = entry.role === 'user' || entry.role === 'system' ? entry.role : 'assistant';
    return { type: 'message', at, role, text: String(entry.text ?? '') };
  }
  return undefined;
}

/** The entry's fields without the absent ones (a session.jsonl line has only what was known). */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

export function storedWorkspaceDiff(trialDir: string): WorkspaceDiff | undefined {
  try {
    return JSON.parse(readFileSync(join(trialDir, 'graders', 'workspace-diff.json'), 'utf8')) as WorkspaceDiff;
  } catch {
    return undefined;
  }
}
