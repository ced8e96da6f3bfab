import type { StageFailure, StageLog } from '../stages.js';

/** The log of a driver stage that ran no commands (a command stage's log comes from runCommandStage). */
export function emptyStageLog(stage: string, driver: string, started: number): StageLog {
  return {
    stage,
    driver,
    ok: true,
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    commands: [],
    notes: [],
  };
}

/** The stage log as written: the outcome's failure and notes on top of the commands' log. */
export function closeStageLog(
  log: StageLog,
  outcome: { driver: string; started: number; failure: StageFailure | undefined; notes: string[] },
): StageLog {
  return {
    ...log,
    driver: outcome.driver,
    ok: !outcome.failure,
    duration_ms: Date.now() - outcome.started,
    failure: outcome.failure,
    notes: [...log.notes, ...outcome.notes],
  };
}
