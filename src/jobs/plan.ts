import type { Arm } from '../agents/types.js';
import { trialName } from '../trial/run-trial.js';
import type { JobConfig } from './job-config.js';

export interface AgentSelection {
  name: string;
  model?: string | undefined;
}

export interface PlannedTrial {
  taskIndex: number;
  agent: AgentSelection;
  arm: Arm;
  trialIndex: number;
}

/**
 * Orders trials so that time-varying conditions (API latency, load) hit every arm and task alike: round r runs
 * trial r of every task × agent × arm before any trial r+1.
 */
export function planTrials(
  taskCount: number,
  agents: readonly AgentSelection[],
  arms: readonly Arm[],
  trials: number,
): PlannedTrial[] {
  const plan: PlannedTrial[] = [];
  for (let trialIndex = 1; trialIndex <= trials; trialIndex++) {
    for (let taskIndex = 0; taskIndex < taskCount; taskIndex++) {
      for (const agent of agents) {
        // Alternate which arm goes first so neither always runs earlier within a round.
        const ordered = trialIndex % 2 === 0 ? [...arms].reverse() : arms;
        for (const arm of ordered) plan.push({ taskIndex, agent, arm, trialIndex });
      }
    }
  }
  return plan;
}

/** A job's trial names (directory names), in plan order, from its job.json. */
export function plannedTrialNames(config: Pick<JobConfig, 'tasks' | 'agents' | 'arms' | 'trials'>): string[] {
  return planTrials(config.tasks.length, config.agents, config.arms, config.trials).map((item) =>
    trialName({ ...item, task: config.tasks[item.taskIndex]!, model: item.agent.model }),
  );
}
