import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { jsonObjectLines } from './json-lines.js';
import type { Redactor } from './secrets.js';

/** One timestamped line of a trial's session log (session.jsonl). */
export type SessionEntry =
  | { type: 'instruction'; text: string }
  | { type: 'phase'; phase: string; state: 'start' | 'end'; durationMs?: number; note?: string }
  | {
      type: 'command';
      source: 'agent' | 'verifier' | 'lifecycle';
      command: string;
      exitCode?: number | undefined;
      timedOut?: boolean;
      stdout?: string;
      stderr?: string;
      durationMs?: number;
    }
  | {
      type: 'tool_call';
      tool: string;
      input?: unknown;
      output?: string | undefined;
      exitCode?: number | undefined;
      isError?: boolean | undefined;
    }
  | { type: 'message'; role: string; text: string }
  | { type: 'skills'; injected: string[]; into: string[] }
  | {
      type: 'agent_result';
      finalMessage?: string | undefined;
      usage?: unknown;
      skillsActivated?: string[] | undefined;
      error?: string | undefined;
      timedOut?: boolean;
    }
  | {
      type: 'verifier';
      exitCode?: number | undefined;
      timedOut: boolean;
      stdout: string;
      stderr: string;
      durationMs: number;
    }
  | { type: 'reward'; reward?: number | undefined; source?: string | undefined; error?: string | undefined }
  | {
      type: 'grader';
      name: string;
      grader: string;
      score?: number | undefined;
      error?: string | undefined;
      durationMs: number;
    }
  | { type: 'note'; text: string };

/**
 * The entries of a session.jsonl's text, for the readers that replay a trial (audit, analyze's funnel, regrade).
 * A line that is not a JSON object — a torn last line after a crash — is skipped.
 */
export function sessionEntries(text: string): Array<Record<string, unknown>> {
  return jsonObjectLines(text).objects;
}

/**
 * Append-only JSONL, written as it happens so a crash keeps everything before it.
 * Every line passes through the redactor first: no secret reaches the disk.
 */
export class SessionLog {
  readonly path: string;
  private readonly redactor: Redactor | undefined;
  private fd: number | undefined;

  constructor(path: string, redactor?: Redactor) {
    this.path = path;
    this.redactor = redactor;
  }

  record(entry: SessionEntry): void {
    const line = JSON.stringify({ at: new Date().toISOString(), ...entry });
    // One open file for the whole trial: a line is one write(2) (not open + write + close each time).
    this.fd ??= this.open();
    writeSync(this.fd, `${this.redactor ? this.redactor.redact(line) : line}\n`);
  }

  private open(): number {
    try {
      return openSync(this.path, 'a');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dirname(this.path), { recursive: true });
      return openSync(this.path, 'a');
    }
  }

  /** Closes the file; a later record opens it again (appending). */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
