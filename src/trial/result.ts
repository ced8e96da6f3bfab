import { join } from 'node:path';
import { ungraded } from '../graders/run.js';
import type { TrialResult } from '../results/schema.js';
import { skillDigest } from '../skills/types.js';
import { writeJsonAtomicSync } from '../util/atomic-write.js';
import type { Redactor } from '../util/secrets.js';
import { SKILL_EVAL_VERSION } from '../version.js';
import { auditsOn, uncheckedAudits } from './audit/audit.js';
import type { PhaseOutcomes } from './lifecycle.js';
import { sealArchive } from './phases/archive.js';
import { selfGeneratedBlock } from './phases/self-generate.js';
import type { TrialVerdict } from './status.js';
import type { TrialContext } from './types.js';
import { trialUsage } from './usage.js';

/** result.json's contents: the trial's identity, its status, and what each phase returned. */
export function trialResult(trial: TrialContext, outcomes: PhaseOutcomes, verdict: TrialVerdict): TrialResult {
  const { spec, runtime } = trial;
  const agentResult = outcomes.agent?.result;
  const reading = outcomes.verdict?.ok ? outcomes.verdict : undefined;
  const events = agentResult?.events ?? [];
  // Turned off (`eval --no-audit`): no blocks at all, as in results written before audits existed.
  const audits = auditsOn(trial.runtime)
    ? (outcomes.audit?.blocks() ?? uncheckedAudits('the trial ended before the agent ran'))
    : { isolation: undefined, tamper: undefined };
  return {
    schema: 'skill-eval/trial-result@1',
    skill_eval_version: SKILL_EVAL_VERSION,
    job_id: spec.jobId,
    trial_id: trial.trialId,
    trial_name: trial.name,
    trial_index: spec.trialIndex,
    task: spec.task.name,
    task_checksum: spec.task.checksum,
    verifier_digest: outcomes.verifierDigest,
    agent: spec.agent.name,
    model: spec.model,
    provider: runtime.provider.name,
    arm: spec.arm,
    status: verdict.status,
    reward: reading?.reward,
    rewards: reading?.rewards,
    reward_source: reading?.source,
    error: verdict.error,
    timings: {
      started_at: trial.startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      total_ms: Math.round(performance.now() - trial.started),
      phases: trial.clock.timings,
    },
    agent_result: agentResult && {
      final_message: agentResult.finalMessage,
      commands: events.filter((e) => e.type === 'command').length,
      tool_calls: events.filter((e) => e.type === 'tool_call').length,
      model_calls: agentResult.modelCalls,
    },
    usage: trialUsage(outcomes.model, agentResult?.usage),
    skills: trial.injectedSkills.map(skillDigest),
    arm_setup: armSetupBlock(trial, outcomes),
    skills_activated: agentResult?.skillsActivated,
    verifier: outcomes.verifier,
    limits: outcomes.workspace?.limits,
    graders: outcomes.graders ?? ungraded(spec.task),
    isolation: audits.isolation,
    tamper: audits.tamper,
    workspace: outcomes.archive,
    baseline_fingerprint: spec.baseline?.sha256,
    baseline_fields: spec.baseline?.fields,
    retries: runtime.retries ?? [],
    gateway: outcomes.model && {
      protocols: outcomes.model.protocols,
      agent_url: outcomes.model.agentUrl,
      stop: outcomes.model.stop,
      replayed_from: outcomes.model.replayedFrom,
    },
    files: {
      session_log: 'session.jsonl',
      agent: 'agent',
      verifier: 'verifier',
      artifacts: 'artifacts',
      model_calls: outcomes.model?.callsFile,
    },
  };
}

/** result.json's arm_setup: what the arm gave beyond its skills; absent when nothing. */
function armSetupBlock(trial: TrialContext, outcomes: PhaseOutcomes): TrialResult['arm_setup'] {
  const setup = trial.spec.setup;
  if (!setup) return undefined;
  const block: NonNullable<TrialResult['arm_setup']> = {};
  if (setup.promptSkills.length > 0) block.prompt_skills = setup.promptSkills.map(skillDigest);
  if (setup.distractors) block.distractors = setup.distractors;
  if (setup.variant) block.variant = setup.variant;
  if (outcomes.selfGenerated) block.self_generated = selfGeneratedBlock(outcomes.selfGenerated);
  return Object.keys(block).length > 0 ? block : undefined;
}

/**
 * Redacts every file of the trial, then writes result.json (redacted too) — the trial's last write. The workspace
 * archive's digest is taken after redaction: it describes the file as kept.
 */
export async function writeResult(trialDir: string, redactor: Redactor, result: TrialResult): Promise<TrialResult> {
  await redactor.redactTree(trialDir);
  const kept = result.workspace ? { ...result, workspace: await sealArchive(trialDir, result.workspace) } : result;
  writeJsonAtomicSync(join(trialDir, 'result.json'), redactor.redactValue(kept));
  return kept;
}
