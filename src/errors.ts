/**
 * One error hierarchy for the whole tool. Every error that reaches the top-level catch maps to a
 * documented exit code (docs/exit-codes.md); trial-level errors become trial statuses instead.
 */

/** A problem found in a user-supplied file: names the file, the field, what was expected and what was found. */
export interface Problem {
  file: string;
  /** Dotted key path inside the file (`environment.cpus`), or undefined when the whole file is at fault. */
  key?: string | undefined;
  expected?: string | undefined;
  found?: string | undefined;
  message: string;
  severity: 'error' | 'warning';
}

export function formatProblem(p: Problem): string {
  const where = p.key ? `${p.file}: ${p.key}` : p.file;
  const parts = [`${where}: ${p.message}`];
  if (p.expected !== undefined) parts.push(`expected ${p.expected}`);
  if (p.found !== undefined) parts.push(`found ${p.found}`);
  return parts.join('; ');
}

export const EXIT_CODES = {
  ok: 0,
  /** A gate (--fail-under, --min-gain) was not met. */
  gateFailed: 1,
  usage: 2,
  taskFormat: 2,
  infra: 3,
  /** An agent CLI could not be installed, before any trial ran. */
  agent: 4,
  /**
   * The job is not complete: `worker --no-wait` left trials other workers still hold (docs/scale.md), or the
   * job's `--max-cost` was spent before every trial started (docs/gateway.md).
   */
  incomplete: 5,
  interrupted: 130,
} as const;

export type ErrorKind = 'usage' | 'task-format' | 'infra' | 'agent' | 'interrupted';

export abstract class SkillEvalError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly exitCode: number;
  /** What the user can do about it, printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, options?: { cause?: unknown; hint?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

export class UsageError extends SkillEvalError {
  readonly kind = 'usage';
  readonly exitCode = EXIT_CODES.usage;
}

export class TaskFormatError extends SkillEvalError {
  readonly kind = 'task-format';
  readonly exitCode = EXIT_CODES.taskFormat;
  readonly problems: Problem[];
  constructor(problems: Problem[], options?: { cause?: unknown; hint?: string }) {
    super(
      problems
        .filter((p) => p.severity === 'error')
        .map(formatProblem)
        .join('\n') || 'invalid task',
      options,
    );
    this.problems = problems;
  }
}

/** Something outside the agent and the task broke: engine, file system, network. Never a score of 0. */
export class InfraError extends SkillEvalError {
  readonly kind = 'infra';
  readonly exitCode = EXIT_CODES.infra;
  /** Whether trying again may help (engine hiccup, container start failure). */
  readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown; hint?: string; retryable?: boolean }) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
}

/**
 * The agent failed. Inside a trial it becomes the trial's `agent_error` status; outside one (its CLI could not
 * be installed) it ends the command with exit 4.
 */
export class AgentError extends SkillEvalError {
  readonly kind = 'agent';
  readonly exitCode = EXIT_CODES.agent;
  /** True when the agent failed before its first model call (bad flag, crash, auth): retryable as infra. */
  readonly beforeFirstModelCall: boolean;
  constructor(message: string, options?: { cause?: unknown; hint?: string; beforeFirstModelCall?: boolean }) {
    super(message, options);
    this.beforeFirstModelCall = options?.beforeFirstModelCall ?? false;
  }
}

export class InterruptedError extends SkillEvalError {
  readonly kind = 'interrupted';
  readonly exitCode = EXIT_CODES.interrupted;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
