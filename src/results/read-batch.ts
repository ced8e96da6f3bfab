import { closeSync, openSync, readSync } from 'node:fs';
import { sep } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Arm, TrialRecord } from './read.js';
import type { TrialResult, TrialStatus } from './schema.js';

/**
 * The per-file half of reading results, run by the worker threads of src/results/read-worker.ts (or
 * on the main thread, for small inputs and while the workers start): read a batch of files, parse,
 * classify and validate each, and encode only what analytics needs into a compact reply. The main
 * thread (src/results/read.ts) walks the directories and decodes the replies in batch order.
 */

/** What to do with a path. */
export const TASK_FILE = 0; // any other .json file in a listing, or a root file not named result.json
export const TASK_TRIAL_FILE = 1; // a result.json seen in a listing, or named as a root
export const TASK_PROBE = 2; // a directory: read its result.json if it has one

/** The outcome of one task; the values each one adds to the reply are listed. */
export const OUT_MISSING = 0; // (probe only) no result.json: the directory is to be listed
export const OUT_UNREADABLE = 1; // reason: could not be opened or read (not counted as read)
export const OUT_PROBLEM = 2; // reason
export const OUT_TRIAL = 3; // TRIAL_FIELDS values, in the order of pushTrial
export const OUT_LEGACY = 4; // one TrialRecord[]
export const OUT_REPORT = 5;
export const OUT_IGNORED = 6;

export const TRIAL_FIELDS = 12;
export const TRIAL_RESULT_FILE = 'result.json';
export const TRIAL_SCHEMA = 'skill-eval/trial-result@1';
export const LEGACY_AGENT = 'unknown (legacy)';

export interface BatchRequest {
  id: number;
  count: number;
  kinds: Uint8Array;
  paths: string[];
}

export interface BatchReply {
  id: number;
  codes: Uint8Array;
  values: unknown[];
}

type Validators = typeof import('./validate.js');

/** JSON.parse never returns this, so it can stand for "not JSON" without an allocation per file. */
const NOT_JSON: unique symbol = Symbol('not JSON');

export class BatchReader {
  private buffer = Buffer.allocUnsafe(256 * 1024);
  private notJsonReason = '';
  private validators: Validators | undefined;

  /** Async only to load zod the first time a file needs it; the reads themselves are synchronous. */
  async run(request: BatchRequest): Promise<BatchReply> {
    const codes = new Uint8Array(request.count);
    const values: unknown[] = [];
    for (let index = 0; index < request.count; index++) {
      const kind = request.kinds[index]!;
      const path = kind === TASK_PROBE ? `${request.paths[index]!}${sep}${TRIAL_RESULT_FILE}` : request.paths[index]!;
      let data: unknown;
      try {
        data = this.readJson(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (kind === TASK_PROBE && (code === 'ENOENT' || code === 'ENOTDIR')) {
          codes[index] = OUT_MISSING;
        } else {
          codes[index] = OUT_UNREADABLE;
          values.push(`cannot read (${errorMessage(error)})`);
        }
        continue;
      }
      if (data === NOT_JSON) {
        codes[index] = OUT_PROBLEM;
        values.push(`not valid JSON (${this.notJsonReason})`);
        continue;
      }
      codes[index] =
        this.classify(data, kind !== TASK_FILE, values) ?? (await this.classifyWithZod(path, data, values));
    }
    return { id: request.id, codes, values };
  }

  /** The common cases without zod; undefined when zod must decide (an invalid trial result, an EvalReport). */
  private classify(data: unknown, isTrialFile: boolean, values: unknown[]): number | undefined {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      if (!isTrialFile) return OUT_IGNORED;
      values.push('not a JSON object');
      return OUT_PROBLEM;
    }
    const object = data as Record<string, unknown>;
    if (object.schema === TRIAL_SCHEMA) {
      if (!isTrialResult(object)) return undefined;
      pushTrial(object, values);
      return OUT_TRIAL;
    }
    if (typeof object.schema === 'string' && object.schema.startsWith('skill-eval/trial-result@')) {
      values.push(`unsupported schema ${object.schema} (this version reads ${TRIAL_SCHEMA})`);
      return OUT_PROBLEM;
    }
    if ('skill_eval_version' in object) return OUT_REPORT;
    if (typeof object.task === 'string' && Array.isArray(object.trials) && 'pass_rate' in object) return undefined;
    if (!isTrialFile) return OUT_IGNORED;
    values.push(`no "schema": "${TRIAL_SCHEMA}" field: not a skill-eval trial result`);
    return OUT_PROBLEM;
  }

  private async classifyWithZod(file: string, data: unknown, values: unknown[]): Promise<number> {
    this.validators ??= await import('./validate.js');
    const object = data as Record<string, unknown>;
    if (object.schema === TRIAL_SCHEMA) {
      const validated = this.validators.validateTrialResult(object);
      if (!validated.ok) {
        values.push(validated.reason);
        return OUT_PROBLEM;
      }
      // Only when the hand-written check is stricter than the schema (it should not be).
      pushTrial(validated.data, values);
      return OUT_TRIAL;
    }
    const validated = this.validators.validateLegacyReport(object);
    if (!validated.ok) {
      values.push(validated.reason);
      return OUT_PROBLEM;
    }
    const report = validated.data;
    const arm: Arm = report.skills_used.length > 0 ? 'with-skills' : 'no-skills';
    const records = report.trials.map((trial, index): TrialRecord => {
      const tokens =
        trial.input_tokens === undefined && trial.output_tokens === undefined
          ? undefined
          : (trial.input_tokens ?? 0) + (trial.output_tokens ?? 0);
      return {
        source: 'legacy-report',
        file,
        // Legacy trial ids restart at 1 in every report: the file makes them unique.
        trialId: `${file}#${index}`,
        trialName: `${report.task}__${arm}__${String(trial.trial_id)}`,
        task: report.task,
        agent: LEGACY_AGENT,
        model: undefined,
        arm,
        // The original had no statuses: every trial it recorded was verified. Pass/fail is decided
        // from the reward at analysis time; this status only says "a model outcome, not an error".
        status: trial.reward >= 1 ? 'passed' : 'failed',
        reward: trial.reward,
        durationMs: trial.duration_ms,
        tokens,
        skillsActivated: undefined,
        errorMessage: undefined,
      };
    });
    values.push(records);
    return OUT_LEGACY;
  }

  /**
   * Synchronous reads into one reused buffer: no per-file allocation, no fstat. One read() usually
   * returns the whole file; if its text parses, it was the whole file (a strict prefix of a JSON object
   * is never valid JSON), which saves the second read() that would only confirm the end of the file.
   * Throws only I/O errors; a file that is not JSON comes back as NOT_JSON.
   */
  private readJson(path: string): unknown {
    const fd = openSync(path, 'r');
    try {
      let length = readSync(fd, this.buffer, 0, this.buffer.length, null);
      if (length > 0 && length < this.buffer.length) {
        const parsed = this.parse(length);
        if (parsed !== NOT_JSON) return parsed;
        // A short read of a longer file, or not JSON: read to the end and decide then.
      }
      for (;;) {
        if (length === this.buffer.length) {
          const larger = Buffer.allocUnsafe(this.buffer.length * 2);
          this.buffer.copy(larger, 0, 0, length);
          this.buffer = larger;
        }
        const count = readSync(fd, this.buffer, length, this.buffer.length - length, null);
        if (count === 0) break;
        length += count;
      }
      return this.parse(length);
    } finally {
      closeSync(fd);
    }
  }

  private parse(length: number): unknown {
    try {
      return JSON.parse(this.buffer.toString('utf8', 0, length));
    } catch (error) {
      this.notJsonReason = errorMessage(error);
      return NOT_JSON;
    }
  }
}

/** The order read.ts decodes them in. */
function pushTrial(result: TrialResult, values: unknown[]): void {
  const usage = result.usage;
  values.push(
    result.trial_id,
    result.trial_name,
    result.task,
    result.agent,
    result.model,
    result.arm,
    result.status,
    result.reward,
    result.timings.total_ms,
    usage === undefined ? undefined : usage.inputTokens + usage.outputTokens,
    result.skills_activated,
    result.error?.message,
  );
}

// The hand-written twin of trialResultSchema (src/results/schema.ts): 0.3 µs a file where zod's
// safeParse takes 2.3 µs (the benchmark's files), and zod is not even loaded while every file passes.
// It must never accept what the schema rejects (a file it rejects goes to zod, which decides and
// says why); tests/results/read-batch.test.ts checks the two agree field by field. The enums are
// repeated here because schema.ts imports zod.

const STATUSES: ReadonlySet<unknown> = new Set<TrialStatus>([
  'passed',
  'failed',
  'agent_timeout',
  'agent_error',
  'verifier_error',
  'infra_error',
]);
const ARMS: ReadonlySet<unknown> = new Set<Arm>(['with-skills', 'no-skills']);
const ERROR_KINDS: ReadonlySet<unknown> = new Set(['infra', 'agent', 'agent_timeout', 'verifier', 'cancelled']);
const LIMIT_STATES: ReadonlySet<unknown> = new Set(['enforced', 'not enforced', 'not applicable']);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
// zod's z.number() refuses NaN and ±Infinity (JSON has neither, but the check should not depend on it).
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';

function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

function isNumberRecord(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const key in value) if (!isNumber(value[key])) return false;
  return true;
}

function isStringArray(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!isString(item)) return false;
  return true;
}

function isSkillDigest(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value.name) &&
    isString(value.description) &&
    isNumber(value.fileCount) &&
    isNumber(value.bytes) &&
    isString(value.sha256)
  );
}

function isRetry(value: unknown): boolean {
  return (
    isObject(value) &&
    isNumber(value.attempt) &&
    isString(value.status) &&
    isString(value.message) &&
    isString(value.at)
  );
}

function isError(value: unknown): boolean {
  return (
    isObject(value) &&
    ERROR_KINDS.has(value.kind) &&
    isString(value.phase) &&
    isString(value.message) &&
    optional(value.retryable, isBoolean)
  );
}

function isTimings(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value.started_at) &&
    isString(value.finished_at) &&
    isNumber(value.total_ms) &&
    isNumberRecord(value.phases)
  );
}

function isAgentResult(value: unknown): boolean {
  return (
    isObject(value) &&
    optional(value.final_message, isString) &&
    isNumber(value.commands) &&
    isNumber(value.tool_calls) &&
    optional(value.model_calls, isNumber)
  );
}

function isUsage(value: unknown): boolean {
  return (
    isObject(value) &&
    isNumber(value.inputTokens) &&
    isNumber(value.outputTokens) &&
    isNumber(value.cachedInputTokens) &&
    optional(value.costUsd, isNumber) &&
    optional(value.costEstimated, isBoolean) &&
    optional(value.turns, isNumber)
  );
}

function isVerifier(value: unknown): boolean {
  return (
    isObject(value) && optional(value.exit_code, isNumber) && isBoolean(value.timed_out) && isNumber(value.duration_ms)
  );
}

function isLimits(value: unknown): boolean {
  return (
    isObject(value) &&
    LIMIT_STATES.has(value.cpus) &&
    LIMIT_STATES.has(value.memory) &&
    LIMIT_STATES.has(value.storage) &&
    LIMIT_STATES.has(value.pids) &&
    LIMIT_STATES.has(value.network) &&
    isStringArray(value.notes)
  );
}

function isFiles(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value.session_log) &&
    isString(value.agent) &&
    isString(value.verifier) &&
    isString(value.artifacts)
  );
}

function every(value: unknown, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!check(item)) return false;
  return true;
}

/** True only for what trialResultSchema accepts. */
export function isTrialResult(o: Json): o is Json & TrialResult {
  return (
    o.schema === TRIAL_SCHEMA &&
    isString(o.skill_eval_version) &&
    isString(o.job_id) &&
    isString(o.trial_id) &&
    isString(o.trial_name) &&
    Number.isSafeInteger(o.trial_index) &&
    (o.trial_index as number) > 0 &&
    isString(o.task) &&
    isString(o.task_checksum) &&
    isString(o.agent) &&
    optional(o.model, isString) &&
    isString(o.provider) &&
    ARMS.has(o.arm) &&
    STATUSES.has(o.status) &&
    optional(o.reward, isNumber) &&
    optional(o.rewards, isNumberRecord) &&
    optional(o.reward_source, isString) &&
    optional(o.error, isError) &&
    isTimings(o.timings) &&
    optional(o.agent_result, isAgentResult) &&
    optional(o.usage, isUsage) &&
    every(o.skills, isSkillDigest) &&
    optional(o.skills_activated, isStringArray) &&
    optional(o.verifier, isVerifier) &&
    optional(o.limits, isLimits) &&
    every(o.retries, isRetry) &&
    isFiles(o.files)
  );
}
