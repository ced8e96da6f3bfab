import { SKILL_TOOL } from '../trial/audit/trajectory.js';
import type { Clipped, Step, StepKind } from './model.js';

/**
 * session.jsonl entries (src/util/session-log.ts) as the trial page's timeline: one step per entry, long texts cut
 * to CLIP_CHARS (the page links to the raw file for the rest), skill activations marked.
 */

export const CLIP_CHARS = 4000;

const KINDS = new Set<StepKind>([
  'instruction',
  'phase',
  'skills',
  'command',
  'tool_call',
  'message',
  'agent_result',
  'verifier',
  'reward',
  'grader',
  'note',
]);
const ACTIVATED_NOTE = /^skill activated: (\S+)(?: \((.*)\))?$/;
const SKILL_FILE = /(?:^|[/\\"'\s])([A-Za-z0-9_.-]+)[/\\]SKILL\.md/i;

export function clip(value: unknown, limit = CLIP_CHARS): Clipped | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  if (text === '') return undefined;
  return text.length > limit ? { text: text.slice(0, limit), full: text.length } : { text };
}

function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function usageTokens(usage: unknown): number | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const u = usage as Record<string, unknown>;
  const input = num(u.inputTokens) ?? num(u.input_tokens);
  const output = num(u.outputTokens) ?? num(u.output_tokens);
  return input === undefined && output === undefined ? undefined : (input ?? 0) + (output ?? 0);
}

/** The skill a tool call or command opened: a Skill/activate_skill call, or a path ending in `<name>/SKILL.md`. */
export function skillOpened(entry: Record<string, unknown>): { name: string; how: string } | undefined {
  if (entry.type === 'tool_call') {
    const tool = str(entry.tool);
    const input = entry.input;
    if (SKILL_TOOL.test(tool)) {
      const fields = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : {};
      const name = str(fields.skill ?? fields.name ?? fields.command ?? (typeof input === 'string' ? input : ''));
      return { name: name || '(unnamed)', how: `${tool} tool` };
    }
    const match = SKILL_FILE.exec(str(input));
    return match ? { name: match[1]!, how: `${tool} read SKILL.md` } : undefined;
  }
  if (entry.type === 'command' && entry.source === 'agent') {
    const match = SKILL_FILE.exec(str(entry.command));
    return match ? { name: match[1]!, how: 'command read SKILL.md' } : undefined;
  }
  if (entry.type === 'note') {
    const match = ACTIVATED_NOTE.exec(str(entry.text));
    return match ? { name: match[1]!, how: match[2] ?? 'reported by the agent' } : undefined;
  }
  return undefined;
}

/** One session-log entry (or an original report's session_log event) as a step. */
export function toStep(entry: Record<string, unknown>, line: number, start: number | undefined): Step {
  const type = str(entry.type);
  const kind: StepKind = KINDS.has(type as StepKind) ? (type as StepKind) : 'other';
  const at = Date.parse(str(entry.at ?? entry.timestamp));
  const step: Step = {
    line,
    kind,
    t: Number.isFinite(at) && start !== undefined ? at - start : undefined,
    durationMs: num(entry.durationMs),
    title: type,
  };
  const skill = skillOpened(entry);
  if (skill) step.skill = skill;
  switch (kind) {
    case 'instruction':
      step.title = 'instruction';
      step.input = clip(entry.text);
      break;
    case 'phase':
      step.title = `${str(entry.phase)} ${str(entry.state)}`;
      if (entry.note !== undefined) step.output = clip(entry.note);
      break;
    case 'skills':
      step.title = `skills injected: ${(entry.injected as unknown[] | undefined)?.map(str).join(', ') ?? ''}`;
      step.output = clip((entry.into as unknown[] | undefined)?.map(str).join('\n'));
      break;
    case 'command':
      commandStep(step, entry);
      break;
    case 'tool_call':
      step.title = str(entry.tool);
      step.input = clip(entry.input);
      step.output = clip(entry.output);
      step.exitCode = num(entry.exitCode);
      step.isError = entry.isError === true ? true : undefined;
      step.action = true;
      break;
    case 'message':
      step.title = str(entry.role) || 'message';
      step.output = clip(entry.text);
      break;
    case 'agent_result':
      step.title = 'agent result';
      step.output = clip(entry.finalMessage);
      step.stderr = clip(entry.error);
      step.tokens = usageTokens(entry.usage);
      break;
    case 'verifier':
      step.title = 'verifier';
      step.output = clip(entry.stdout);
      step.stderr = clip(entry.stderr);
      step.exitCode = num(entry.exitCode);
      break;
    case 'reward':
      step.title = entry.reward === undefined ? `no reward: ${str(entry.error)}` : `reward ${str(entry.reward)}`;
      step.output = clip(entry.source);
      break;
    case 'grader':
      step.title = `grader ${str(entry.name)} (${str(entry.grader)}): ${entry.score === undefined ? `error ${str(entry.error)}` : str(entry.score)}`;
      break;
    case 'note':
      step.title = 'note';
      step.output = clip(entry.text);
      break;
    default:
      step.output = clip(otherFields(entry));
  }
  return step;
}

function commandStep(step: Step, entry: Record<string, unknown>): void {
  step.source = str(entry.source) || undefined;
  step.title = str(entry.command);
  step.input = clip(entry.command);
  step.output = clip(entry.stdout);
  step.stderr = clip(entry.stderr);
  step.exitCode = num(entry.exitCode);
  step.isError = entry.timedOut === true ? true : undefined;
  // An original report's events have no source: its commands are the agent's.
  step.action = entry.source === 'agent' || entry.source === undefined;
}

function otherFields(entry: Record<string, unknown>): Record<string, unknown> | undefined {
  const { type: _type, at: _at, timestamp: _timestamp, ...rest } = entry;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/** Every entry as a step, at most `limit` of them (the rest are counted, not shipped). */
export function stepsFromEntries(
  entries: ReadonlyArray<Record<string, unknown>>,
  limit: number,
): { steps: Step[]; omitted: number } {
  const first = entries.find((entry) => Number.isFinite(Date.parse(str(entry.at ?? entry.timestamp))));
  const start = first ? Date.parse(str(first.at ?? first.timestamp)) : undefined;
  const steps = entries.slice(0, limit).map((entry, index) => toStep(entry, index + 1, start));
  return { steps, omitted: Math.max(0, entries.length - limit) };
}
