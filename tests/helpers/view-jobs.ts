import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialResult } from '../../src/results/schema.js';
import type { SessionEntry } from '../../src/util/session-log.js';

/**
 * Synthetic job directories for the viewer's tests and bench: job.json, trial directories with config.json, a
 * session.jsonl of chosen steps and (unless running) a result.json of the real schema. Written synchronously and
 * directly — the point is the files a job leaves, with steps no fixture agent takes.
 */

export interface SyntheticStep {
  command?: string | undefined;
  tool?: string | undefined;
  input?: unknown;
  message?: string | undefined;
  output?: string | undefined;
  exitCode?: number | undefined;
  durationMs?: number | undefined;
  /** A `skill activated: NAME (how)` note, as CLI agents' recorders write. */
  skillActivated?: string | undefined;
}

export interface SyntheticTrial {
  task: string;
  agent?: string | undefined;
  model?: string | undefined;
  arm: 'with-skills' | 'no-skills';
  index: number;
  status?: TrialResult['status'] | undefined;
  reward?: number | undefined;
  steps?: readonly SyntheticStep[] | undefined;
  instruction?: string | undefined;
  /** Leave the trial running in this phase: no result.json, the log stops at the phase's start. */
  runningPhase?: string | undefined;
  tokens?: number | undefined;
  startedAt?: Date | undefined;
}

export function trialName(trial: SyntheticTrial): string {
  const agent = trial.agent ?? 'fixture-agent';
  return `${trial.task}__${trial.model ? `${agent}-${trial.model}` : agent}__${trial.arm}__${trial.index}`;
}

export function writeJobJson(
  jobDir: string,
  jobId: string,
  tasks: string[],
  trials: number,
  agent = 'fixture-agent',
): void {
  mkdirSync(jobDir, { recursive: true });
  const job = {
    job_id: jobId,
    created_at: new Date('2026-12-01T10:00:00Z').toISOString(),
    command_line: ['skill-eval', 'eval'],
    tasks: tasks.map((name) => ({ name, dir: `/tasks/${name}`, checksum: '0'.repeat(64) })),
    agents: [{ name: agent }],
    arms: ['with-skills', 'no-skills'],
    trials,
    provider: 'local',
    pass_threshold: 1,
  };
  writeFileSync(join(jobDir, 'job.json'), JSON.stringify(job, null, 2));
}

function entries(trial: SyntheticTrial, start: number): Array<SessionEntry & { at: string }> {
  let clock = start;
  const at = (advance = 5): string => {
    clock += advance;
    return new Date(clock).toISOString();
  };
  const log: Array<SessionEntry & { at: string }> = [
    { at: at(0), type: 'instruction', text: trial.instruction ?? `Solve ${trial.task}.` },
    { at: at(), type: 'phase', phase: 'environment_setup', state: 'start' },
    { at: at(20), type: 'phase', phase: 'environment_setup', state: 'end', durationMs: 20 },
    { at: at(), type: 'phase', phase: 'agent', state: 'start' },
  ];
  if (trial.runningPhase === 'agent' || trial.runningPhase === 'environment_setup') {
    if (trial.runningPhase === 'environment_setup') log.splice(2);
    return log;
  }
  for (const step of trial.steps ?? []) {
    const duration = step.durationMs ?? 10;
    if (step.skillActivated)
      log.push({ at: at(1), type: 'note', text: `skill activated: ${step.skillActivated} (Skill tool)` });
    if (step.command !== undefined)
      log.push({
        at: at(duration),
        type: 'command',
        source: 'agent',
        command: step.command,
        exitCode: step.exitCode ?? 0,
        stdout: step.output ?? '',
        stderr: '',
        durationMs: duration,
      });
    else if (step.tool !== undefined)
      log.push({
        at: at(duration),
        type: 'tool_call',
        tool: step.tool,
        input: step.input,
        output: step.output,
        exitCode: step.exitCode,
      });
    else if (step.message !== undefined)
      log.push({ at: at(duration), type: 'message', role: 'assistant', text: step.message });
  }
  log.push({
    at: at(),
    type: 'agent_result',
    finalMessage: 'done',
    usage: trial.tokens === undefined ? undefined : { inputTokens: trial.tokens, outputTokens: 0 },
  });
  log.push({ at: at(), type: 'phase', phase: 'agent', state: 'end', durationMs: clock - start });
  if (trial.runningPhase === 'verifier') {
    log.push({ at: at(), type: 'phase', phase: 'verifier', state: 'start' });
    return log;
  }
  const passed = (trial.status ?? 'passed') === 'passed';
  log.push({ at: at(), type: 'phase', phase: 'verifier', state: 'start' });
  log.push({
    at: at(30),
    type: 'verifier',
    exitCode: passed ? 0 : 1,
    timedOut: false,
    stdout: passed ? 'PASS\n' : 'FAIL\n',
    stderr: '',
    durationMs: 30,
  });
  log.push({ at: at(), type: 'reward', reward: trial.reward ?? (passed ? 1 : 0), source: '/logs/verifier/reward.txt' });
  log.push({ at: at(), type: 'phase', phase: 'verifier', state: 'end', durationMs: 32 });
  return log;
}

/** Writes one trial directory; returns its path. */
export function writeSyntheticTrial(jobDir: string, jobId: string, trial: SyntheticTrial): string {
  const name = trialName(trial);
  const dir = join(jobDir, name);
  mkdirSync(dir, { recursive: true });
  const agent = trial.agent ?? 'fixture-agent';
  const start = (trial.startedAt ?? new Date('2026-12-01T10:00:00Z')).getTime();
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      job_id: jobId,
      trial_name: name,
      task: trial.task,
      agent,
      model: trial.model,
      arm: trial.arm,
      trial_index: trial.index,
    }),
  );
  const log = entries(trial, start);
  writeFileSync(join(dir, 'session.jsonl'), `${log.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
  if (trial.runningPhase === undefined) writeSyntheticResult(dir, jobId, trial, start, Date.parse(log.at(-1)!.at));
  return dir;
}

/** The result.json a finished trial gets (written last, as the lifecycle does). */
export function writeSyntheticResult(
  dir: string,
  jobId: string,
  trial: SyntheticTrial,
  start: number,
  end: number,
): void {
  const status = trial.status ?? 'passed';
  const steps = trial.steps ?? [];
  const errored = status === 'infra_error' || status === 'verifier_error';
  const result: TrialResult = {
    schema: 'skill-eval/trial-result@1',
    skill_eval_version: '0.1.0',
    job_id: jobId,
    trial_id: `${jobId}-${trialName(trial)}`,
    trial_name: trialName(trial),
    trial_index: trial.index,
    task: trial.task,
    task_checksum: '0'.repeat(64),
    agent: trial.agent ?? 'fixture-agent',
    model: trial.model,
    provider: 'local',
    arm: trial.arm,
    status,
    reward: errored ? undefined : (trial.reward ?? (status === 'passed' ? 1 : 0)),
    error: errored
      ? { kind: status === 'infra_error' ? 'infra' : 'verifier', phase: 'verifier', message: 'synthetic error' }
      : undefined,
    timings: {
      started_at: new Date(start).toISOString(),
      finished_at: new Date(end).toISOString(),
      total_ms: end - start,
      phases: { agent_ms: end - start },
    },
    agent_result: {
      final_message: 'done',
      commands: steps.filter((step) => step.command !== undefined).length,
      tool_calls: steps.filter((step) => step.tool !== undefined).length,
    },
    usage:
      trial.tokens === undefined ? undefined : { inputTokens: trial.tokens, outputTokens: 0, cachedInputTokens: 0 },
    skills:
      trial.arm === 'with-skills'
        ? [{ name: 'fixture-skill', description: 'a skill', fileCount: 1, bytes: 10, sha256: '0'.repeat(64) }]
        : [],
    skills_activated:
      trial.arm === 'with-skills'
        ? steps.flatMap((step) => (step.skillActivated ? [step.skillActivated] : []))
        : undefined,
    retries: [],
    files: { session_log: 'session.jsonl', agent: 'agent', verifier: 'verifier', artifacts: 'artifacts' },
  };
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2));
}
