import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TrialRecord } from '../results/record.js';
import { sessionEntries } from '../util/session-log.js';
import { median } from './estimators.js';
import type { FunnelReport, FunnelStage } from './report.js';

/**
 * The activation funnel of a configuration's with-skills arm: skills supplied → present where the agent looks →
 * listed by the agent → SKILL.md opened → scripts/ or references/ used, plus the time to the first open.
 * The first stages come from result.json; the last two need each trial's session.jsonl, read only when asked
 * (`analyze --funnel`), since reading every session log would break analyze's budget on large result trees.
 */

/** What one trial's session.jsonl tells the funnel. */
export interface SessionFunnel {
  /** From the agent phase's start to the first `skill activated` note; absent when no skill was opened. */
  firstOpenMs?: number | undefined;
  /** A command or tool call named a file under a supplied skill's scripts/ or references/. */
  resourcesUsed: boolean;
}

const ACTIVATED_NOTE = 'skill activated: ';

/** Reads a session log's lines (src/util/session-log.ts); lines that are not JSON are skipped. */
export function parseSessionFunnel(text: string, skillNames: readonly string[]): SessionFunnel {
  const resource = resourcePattern(skillNames);
  let agentStart: number | undefined;
  let firstOpenMs: number | undefined;
  let resourcesUsed = false;
  for (const entry of sessionEntries(text)) {
    const at = typeof entry.at === 'string' ? Date.parse(entry.at) : Number.NaN;
    if (entry.type === 'phase' && entry.phase === 'agent' && entry.state === 'start' && agentStart === undefined)
      agentStart = at;
    else if (entry.type === 'note' && typeof entry.text === 'string' && entry.text.startsWith(ACTIVATED_NOTE)) {
      if (firstOpenMs === undefined && agentStart !== undefined && Number.isFinite(at))
        firstOpenMs = Math.max(0, at - agentStart);
    } else if (resource && !resourcesUsed && isAgentAction(entry)) {
      const text = entry.type === 'command' ? String(entry.command ?? '') : JSON.stringify(entry.input ?? '');
      resourcesUsed = resource.test(text);
    }
  }
  return { firstOpenMs, resourcesUsed };
}

function isAgentAction(entry: Record<string, unknown>): boolean {
  return (entry.type === 'command' && entry.source === 'agent') || entry.type === 'tool_call';
}

function resourcePattern(skillNames: readonly string[]): RegExp | undefined {
  if (skillNames.length === 0) return undefined;
  const names = skillNames.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`(?:^|[/\\\\"'\\s])(?:${names})[/\\\\]+(?:scripts|references)[/\\\\]`);
}

/** Folds a configuration's counted with-skills trials into the funnel's counts. */
export class FunnelCounter {
  private trials = 0;
  private supplied = 0;
  private presentKnown = 0;
  private present = 0;
  private openedKnown = 0;
  private opened = 0;
  private sessionsRead = 0;
  private resourcesUsed = 0;
  private readonly openTimes: number[] = [];

  constructor(private readonly readSessions: boolean) {}

  add(record: TrialRecord): void {
    this.trials++;
    const skills = record.skills ?? [];
    if (skills.length === 0 && record.skillsActivated === undefined) return;
    // A legacy report names no skills, but reports none activated either: it never reaches this line.
    this.supplied++;
    if (record.skillsPresent !== undefined) {
      this.presentKnown++;
      if (record.skillsPresent) this.present++;
    }
    if (record.skillsActivated !== undefined || record.skillsOpened !== undefined) {
      this.openedKnown++;
      if ((record.skillsActivated?.length ?? 0) > 0 || record.skillsOpened === true) this.opened++;
    }
    if (this.readSessions && record.sessionLog !== undefined)
      this.readSession(
        resolve(dirname(record.file), record.sessionLog),
        skills.map((skill) => skill.name),
      );
  }

  private readSession(path: string, names: readonly string[]): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    this.sessionsRead++;
    const session = parseSessionFunnel(text, names);
    if (session.resourcesUsed) this.resourcesUsed++;
    if (session.firstOpenMs !== undefined) this.openTimes.push(session.firstOpenMs);
  }

  report(): FunnelReport | undefined {
    if (this.supplied === 0) return undefined;
    const of = this.supplied;
    const stage = (name: FunnelStage['stage'], count: number | undefined, known: number, note?: string) =>
      funnelStage(name, count, known, of, note);
    const sessionNote = this.readSessions ? undefined : 'not measured (analyze --funnel reads session.jsonl)';
    const stages: FunnelStage[] = [
      stage('supplied', of, of),
      stage('present', this.present, this.presentKnown, this.presentKnown === 0 ? 'not audited' : undefined),
      stage('listed', undefined, 0, 'not reported (no agent reports which skills it listed)'),
      stage('opened', this.opened, this.openedKnown, this.openedKnown === 0 ? 'not reported' : undefined),
      stage(
        'resources_used',
        this.readSessions ? this.resourcesUsed : undefined,
        this.sessionsRead,
        sessionNote ?? (this.sessionsRead === 0 ? 'no session log found' : undefined),
      ),
    ];
    const times = [...this.openTimes].sort((x, y) => x - y);
    return {
      trials: this.trials,
      stages,
      sessionLogsRead: this.readSessions ? this.sessionsRead : undefined,
      timeToFirstOpenMs:
        times.length > 0
          ? { trials: times.length, medianMs: median(times)!, meanMs: times.reduce((x, y) => x + y, 0) / times.length }
          : undefined,
    };
  }
}

/** A stage's rate is over every trial that was given skills; `known` says how many trials could tell. */
export function funnelStage(
  stage: FunnelStage['stage'],
  count: number | undefined,
  known: number,
  supplied: number,
  note?: string,
): FunnelStage {
  const result: FunnelStage = { stage, known };
  if (count !== undefined && known > 0) {
    result.count = count;
    result.rate = count / supplied;
  }
  if (note !== undefined) result.note = note;
  return result;
}
