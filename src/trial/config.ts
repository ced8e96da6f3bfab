import { skillDigest } from '../skills/types.js';
import type { TrialContext } from './types.js';

/** config.json: what this trial was asked to run, written before it starts. */
export function trialConfig(trial: TrialContext): Record<string, unknown> {
  const { spec, runtime } = trial;
  return {
    job_id: spec.jobId,
    trial_id: trial.trialId,
    trial_name: trial.name,
    task: spec.task.name,
    task_dir: spec.task.dir,
    task_checksum: spec.task.checksum,
    agent: spec.agent.name,
    model: spec.model,
    provider: runtime.provider.name,
    arm: spec.arm,
    trial_index: spec.trialIndex,
    agent_timeout_sec: trial.agentTimeoutSec,
    verifier_timeout_sec: trial.verifierTimeoutSec,
    skills: trial.injectedSkills.map(skillDigest),
  };
}
