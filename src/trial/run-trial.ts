import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { armSetup, promptInstruction } from '../arms/setup.js';
import { armFileName } from '../arms/spec.js';
import type { TrialResult } from '../results/schema.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import { SessionLog } from '../util/session-log.js';
import { trialConfig } from './config.js';
import { runPhases } from './lifecycle.js';
import { PhaseClock } from './phase-clock.js';
import { trialResult, writeResult } from './result.js';
import { trialStatus } from './status.js';
import type { TrialContext, TrialRuntime, TrialSpec } from './types.js';

export type { TrialRuntime, TrialSpec } from './types.js';

/** A trial's directory name; only names are needed (status computes them from job.json). */
export function trialName(spec: {
  task: { name: string };
  agent: { name: string };
  model?: string | undefined;
  arm: TrialSpec['arm'];
  trialIndex: number;
}): string {
  const agent = spec.model ? `${spec.agent.name}-${spec.model}` : spec.agent.name;
  return `${spec.task.name}__${agent}__${armFileName(spec.arm)}__${spec.trialIndex}`.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/**
 * The trial lifecycle, written once for every provider and agent (src/trial/lifecycle.ts runs the phases):
 * [self-generated arm: the agent writes its skill] → fresh workspace → the arm's skills → agent under its timeout → verifier, always (also after an
 * agent timeout or crash): tests copied in only now, /logs/verifier emptied first → reward → logs collected →
 * cleanup, always. Returns the result (also written to `result.json`); throws only InterruptedError on cancel.
 */
export async function runTrial(spec: TrialSpec, runtime: TrialRuntime): Promise<TrialResult> {
  const trial = openTrial(spec, runtime);
  const outcomes = await runPhases(trial);
  const verdict = trialStatus({
    ...outcomes,
    agentTimeoutSec: trial.agentTimeoutSec,
    passThreshold: runtime.passThreshold ?? 1,
  });
  return writeResult(runtime.trialDir, runtime.redactor, trialResult(trial, outcomes, verdict));
}

/** Creates the trial's directory, session log and config.json. */
function openTrial(spec: TrialSpec, runtime: TrialRuntime): TrialContext {
  // The trial's own files are small: written synchronously (bench/jobs/throughput.ts: half the CPU of async
  // calls), atomically but not fsync'd — a kill -9 sees a whole result.json or none; only an OS crash can leave
  // one empty, and resume then runs that trial again (it never counts a torn result).
  mkdirSync(runtime.trialDir, { recursive: true });
  const log = new SessionLog(join(runtime.trialDir, 'session.jsonl'), runtime.redactor);
  const setup = spec.setup ?? armSetup(spec.arm, spec.task, spec.trialIndex);
  const trial: TrialContext = {
    spec,
    runtime,
    trialId: randomBytes(6).toString('hex'),
    name: trialName(spec),
    startedAt: new Date(),
    started: performance.now(),
    agentTimeoutSec: runtime.agentTimeoutSec ?? spec.task.config.agent.timeoutSec,
    verifierTimeoutSec: runtime.verifierTimeoutSec ?? spec.task.config.verifier.timeoutSec,
    injectedSkills: setup.skills,
    instruction: promptInstruction(spec.task.instruction, setup.promptSkills),
    log,
    clock: new PhaseClock(log, runtime.onPhase),
  };
  writeJsonAtomicSync(join(runtime.trialDir, 'config.json'), trialConfig(trial));
  log.record({ type: 'instruction', text: trial.instruction });
  return trial;
}
