import { readFileSync } from 'node:fs';
import { placesSkills } from '../arms/spec.js';
import { errorMessage } from '../errors.js';
import type { Arm, TrialRecord } from './record.js';
import type { TrialResult } from './schema.js';
import { type LegacyReport, validateLegacyReport, validateTrialResult } from './validate.js';

/**
 * One JSON file found while reading results: read, parse, tell what it is, validate it with the zod schemas
 * (src/results/validate.ts) and keep only what analytics needs.
 */

export const TRIAL_RESULT_FILE = 'result.json';
export const TRIAL_SCHEMA = 'skill-eval/trial-result@1';
export const LEGACY_AGENT = 'unknown (legacy)';

export type FileOutcome =
  /** A probed directory has no result.json: it is to be listed. */
  | { kind: 'missing' }
  /** Could not be opened or read (not counted as read). */
  | { kind: 'unreadable'; reason: string }
  | { kind: 'problem'; reason: string }
  /** `result`: the validated file, for readers that show more than analytics needs (the viewer). */
  | { kind: 'trial'; record: TrialRecord; result: TrialResult }
  | { kind: 'legacy'; records: TrialRecord[] }
  /** Our per-task report file (`skill_eval_version`, no `schema`): the trial files are authoritative. */
  | { kind: 'report' }
  /** Neither a trial result nor an EvalReport (job configs and the like). */
  | { kind: 'ignored' };

/** How a file was reached, which decides what a file that is not a result is. */
export type FileRole =
  /** Any other .json file in a listing, or a root file not named result.json: ignored if not a result. */
  | 'json'
  /** A result.json seen in a listing or named as a root: a problem if not a trial result. */
  | 'trial'
  /** `<directory>/result.json` tried before listing the directory: missing is no problem. */
  | 'probe';

export function readResultFile(file: string, role: FileRole): FileOutcome {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (role === 'probe' && (code === 'ENOENT' || code === 'ENOTDIR')) return { kind: 'missing' };
    return { kind: 'unreadable', reason: `cannot read (${errorMessage(error)})` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { kind: 'problem', reason: `not valid JSON (${errorMessage(error)})` };
  }
  return classify(file, data, role !== 'json');
}

function classify(file: string, data: unknown, isTrialFile: boolean): FileOutcome {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return isTrialFile ? { kind: 'problem', reason: 'not a JSON object' } : { kind: 'ignored' };
  const object = data as Record<string, unknown>;
  if (object.schema === TRIAL_SCHEMA) {
    const validated = validateTrialResult(object);
    return validated.ok
      ? { kind: 'trial', record: trialRecord(file, validated.data), result: validated.data }
      : { kind: 'problem', reason: validated.reason };
  }
  if (typeof object.schema === 'string' && object.schema.startsWith('skill-eval/trial-result@'))
    return { kind: 'problem', reason: `unsupported schema ${object.schema} (this version reads ${TRIAL_SCHEMA})` };
  if ('skill_eval_version' in object) return { kind: 'report' };
  if (typeof object.task === 'string' && Array.isArray(object.trials) && 'pass_rate' in object) {
    const validated = validateLegacyReport(object);
    return validated.ok
      ? { kind: 'legacy', records: legacyRecords(file, validated.data) }
      : { kind: 'problem', reason: validated.reason };
  }
  if (!isTrialFile) return { kind: 'ignored' };
  return { kind: 'problem', reason: `no "schema": "${TRIAL_SCHEMA}" field: not a skill-eval trial result` };
}

/** The trial's usage, the self-generated arm's writing phase included: it is part of what the arm costs. */
function trialUsage(result: TrialResult): TrialResult['usage'] {
  const writing = result.arm_setup?.self_generated?.usage;
  const usage = result.usage;
  if (!writing || !usage) return usage ?? writing;
  const cost =
    usage.costUsd === undefined && writing.costUsd === undefined
      ? undefined
      : (usage.costUsd ?? 0) + (writing.costUsd ?? 0);
  return {
    inputTokens: usage.inputTokens + writing.inputTokens,
    outputTokens: usage.outputTokens + writing.outputTokens,
    cachedInputTokens: usage.cachedInputTokens + writing.cachedInputTokens,
    costUsd: cost,
  };
}

function trialRecord(file: string, result: TrialResult): TrialRecord {
  const usage = trialUsage(result);
  return {
    source: 'trial-result',
    file,
    trialId: result.trial_id,
    trialName: result.trial_name,
    task: result.task,
    agent: result.agent,
    model: result.model,
    arm: result.arm,
    status: result.status,
    reward: result.reward,
    durationMs: result.timings.total_ms,
    tokens: usage === undefined ? undefined : usage.inputTokens + usage.outputTokens,
    skillsActivated: result.skills_activated,
    errorMessage: result.error?.message,
    contaminated: result.isolation?.contaminated === true,
    tampered: result.tamper?.tampered === true,
    reusedFrom: result.reused_from?.job_id,
    jobId: result.job_id,
    ...skillFields(result),
    costUsd: usage?.costUsd,
    modelsServed: usage?.modelsServed,
    judgeCalls: result.graders?.filter((grader) => grader.model !== undefined).length,
    auditNote: auditNote(result),
  };
}

/** What the activation funnel needs (src/analytics/funnel.ts), from the isolation audit when it ran. */
function skillFields(
  result: TrialResult,
): Pick<TrialRecord, 'skills' | 'skillsPresent' | 'skillsOpened' | 'sessionLog'> {
  const audited = result.isolation?.checked === true && placesSkills(result.arm) ? result.isolation.skills : [];
  return {
    skills: result.skills,
    skillsPresent: audited.length > 0 ? audited.every((skill) => skill.present) : undefined,
    skillsOpened: audited.length > 0 ? audited.some((skill) => skill.opened) : undefined,
    // Joined only by the funnel, when it reads the log: 100,000 path joins are not free.
    sessionLog: result.files.session_log,
  };
}

/** The first findings of each audit, for the report to name what a flagged trial did. */
function auditNote(result: TrialResult): string | undefined {
  const notes: string[] = [];
  const leaks = result.isolation?.findings.filter((finding) => finding.contaminating) ?? [];
  if (result.isolation?.contaminated && leaks.length > 0)
    notes.push(
      `skill reached the baseline: ${leaks
        .slice(0, 2)
        .map((finding) => `${finding.kind} ${finding.detail}`)
        .join('; ')}`,
    );
  const touched = result.tamper?.findings ?? [];
  if (result.tamper?.tampered && touched.length > 0)
    notes.push(
      `touched: ${touched
        .slice(0, 3)
        .map((finding) => `${finding.change} ${finding.path}`)
        .join(', ')}`,
    );
  return notes.length > 0 ? notes.join(' — ') : undefined;
}

function legacyRecords(file: string, report: LegacyReport): TrialRecord[] {
  const arm: Arm = report.skills_used.length > 0 ? 'with-skills' : 'no-skills';
  return report.trials.map((trial, index): TrialRecord => {
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
}
