import type { SessionLog } from '../../util/session-log.js';
import type { AgentEvent } from '../types.js';

/** Output kept per tool call in events and the session log; the rest is in the CLI's raw log under logs/agent. */
const MAX_OUTPUT_CHARS = 20_000;

function clip(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= MAX_OUTPUT_CHARS) return text;
  return `${text.slice(0, MAX_OUTPUT_CHARS)}\n[… ${text.length - MAX_OUTPUT_CHARS} more characters in logs/agent …]`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds skills in paths and command lines: a read of `<skills dir>/<name>/…` (SKILL.md, a script, a reference)
 * means the agent opened skill `<name>`. Only the skills actually placed in this trial count, so a no-skills
 * arm never reports one, and a guess at a path that does not exist names no real skill.
 */
export class SkillMatcher {
  private readonly patterns: RegExp[];

  constructor(
    skillDirs: readonly string[],
    relativeDirs: readonly string[],
    private readonly known: ReadonlySet<string>,
  ) {
    const dirs = [...new Set([...skillDirs, ...relativeDirs.map((d) => d.replace(/^~\//, ''))])].filter(
      (d) => d !== '',
    );
    // `<dir>/<name>` where dir may be written absolute, relative (`.claude/skills`) or with `./`.
    this.patterns = dirs.map((dir) => new RegExp(`${escapeRegExp(dir.replace(/\/+$/, ''))}/([A-Za-z0-9_.-]+)`, 'g'));
  }

  /** Skill names mentioned as paths in `text` (a file path or a whole command line). */
  find(text: string): string[] {
    if (this.known.size === 0) return [];
    const found = new Set<string>();
    for (const pattern of this.patterns) {
      for (const match of text.matchAll(pattern)) {
        const name = match[1];
        if (name !== undefined && this.known.has(name)) found.add(name);
      }
    }
    return [...found];
  }
}

/**
 * Collects what a CLI did, in order, as AgentEvents, and writes each to the trial's session log as it happens
 * (so a timeout or crash keeps everything before it).
 */
export class RunRecorder {
  readonly events: AgentEvent[] = [];
  private readonly activated = new Set<string>();
  finalMessage: string | undefined;
  /** Distinct model responses seen (each assistant message / turn). */
  modelCalls = 0;
  /** A failure the CLI reported in its own stream (an error result), as opposed to a non-zero exit. */
  failure: string | undefined;
  private readonly givingUp = new AbortController();
  /** Aborted when the harness stops the CLI itself (an endpoint it would retry forever). */
  readonly giveUpSignal: AbortSignal = this.givingUp.signal;

  constructor(
    private readonly log: SessionLog,
    readonly skills: SkillMatcher,
  ) {}

  private now(): string {
    return new Date().toISOString();
  }

  message(role: 'assistant' | 'user' | 'system', text: string): void {
    if (text.trim() === '') return;
    this.events.push({ type: 'message', at: this.now(), role, text });
    this.log.record({ type: 'message', role, text });
    if (role === 'assistant') this.finalMessage = text;
  }

  command(entry: {
    command: string;
    exitCode?: number | undefined;
    output?: string | undefined;
    durationMs?: number | undefined;
  }): void {
    const stdout = clip(entry.output);
    this.events.push({
      type: 'command',
      at: this.now(),
      command: entry.command,
      exitCode: entry.exitCode,
      ...(stdout !== undefined ? { stdout } : {}),
      ...(entry.durationMs !== undefined ? { durationMs: entry.durationMs } : {}),
    });
    this.log.record({
      type: 'command',
      source: 'agent',
      command: entry.command,
      exitCode: entry.exitCode,
      ...(stdout !== undefined ? { stdout } : {}),
      ...(entry.durationMs !== undefined ? { durationMs: entry.durationMs } : {}),
    });
    for (const skill of this.skills.find(entry.command)) this.skill(skill, `command: ${entry.command}`);
  }

  toolCall(entry: {
    tool: string;
    input?: unknown;
    output?: string | undefined;
    exitCode?: number | undefined;
    isError?: boolean | undefined;
  }): void {
    const output = clip(entry.output);
    this.events.push({
      type: 'tool_call',
      at: this.now(),
      tool: entry.tool,
      input: entry.input,
      output,
      exitCode: entry.exitCode,
      isError: entry.isError,
    });
    this.log.record({
      type: 'tool_call',
      tool: entry.tool,
      input: entry.input,
      output,
      exitCode: entry.exitCode,
      isError: entry.isError,
    });
    if (!entry.isError && entry.input !== undefined) {
      for (const skill of this.skills.find(JSON.stringify(entry.input)))
        this.skill(skill, `${entry.tool} ${JSON.stringify(entry.input)}`);
    }
  }

  /** The agent opened a skill (through the CLI's skill tool, or by reading its files). */
  skill(name: string, how: string): void {
    if (this.activated.has(name)) return;
    this.activated.add(name);
    this.events.push({ type: 'skill', at: this.now(), skill: name, how });
    this.log.record({ type: 'note', text: `skill activated: ${name} (${how})` });
  }

  /** Stops the CLI now and fails the run with `reason` (the CLI would otherwise wait out the agent timeout). */
  giveUp(reason: string): void {
    if (this.givingUp.signal.aborted) return;
    this.failure = reason;
    this.log.record({ type: 'note', text: `stopping the agent CLI: ${reason}` });
    this.givingUp.abort(new Error(reason));
  }

  error(message: string): void {
    this.events.push({ type: 'error', at: this.now(), message });
    this.log.record({ type: 'note', text: `agent error: ${message}` });
  }

  get skillsActivated(): string[] {
    return [...this.activated];
  }
}
