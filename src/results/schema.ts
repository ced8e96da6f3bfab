import { z } from 'zod';

/** Every trial ends in exactly one of these. Only `passed`/`failed`/`agent_*` are model outcomes. */
export const TRIAL_STATUSES = [
  'passed',
  'failed',
  'agent_timeout',
  'agent_error',
  'verifier_error',
  'infra_error',
] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

export const ARMS = ['with-skills', 'no-skills'] as const;

const skillDigestSchema = z.object({
  name: z.string(),
  description: z.string(),
  fileCount: z.number(),
  bytes: z.number(),
  sha256: z.string(),
});

const usageSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedInputTokens: z.number(),
  costUsd: z.number().optional(),
  costEstimated: z.boolean().optional(),
  turns: z.number().optional(),
});

const limitStateSchema = z.enum(['enforced', 'not enforced', 'not applicable']);

export const trialResultSchema = z.object({
  schema: z.literal('skill-eval/trial-result@1'),
  skill_eval_version: z.string(),
  job_id: z.string(),
  trial_id: z.string(),
  trial_name: z.string(),
  /** 1-based index of this trial within its task × agent × model × arm cell. */
  trial_index: z.number().int().positive(),
  task: z.string(),
  task_checksum: z.string(),
  agent: z.string(),
  model: z.string().optional(),
  provider: z.string(),
  arm: z.enum(ARMS),
  status: z.enum(TRIAL_STATUSES),
  /** Absent when no reward was produced (verifier or infra error). Never 0 in its place. */
  reward: z.number().optional(),
  /** All numbers of reward.json, when the reward came from there. */
  rewards: z.record(z.string(), z.number()).optional(),
  reward_source: z.string().optional(),
  error: z
    .object({
      kind: z.enum(['infra', 'agent', 'agent_timeout', 'verifier', 'cancelled']),
      phase: z.string(),
      message: z.string(),
      /** True when another attempt may succeed (engine hiccup, agent died before its first model call). */
      retryable: z.boolean().optional(),
    })
    .optional(),
  timings: z.object({
    started_at: z.string(),
    finished_at: z.string(),
    total_ms: z.number(),
    phases: z.record(z.string(), z.number()),
  }),
  agent_result: z
    .object({
      final_message: z.string().optional(),
      commands: z.number(),
      tool_calls: z.number(),
      model_calls: z.number().optional(),
    })
    .optional(),
  usage: usageSchema.optional(),
  skills: z.array(skillDigestSchema),
  skills_activated: z.array(z.string()).optional(),
  verifier: z
    .object({
      exit_code: z.number().optional(),
      timed_out: z.boolean(),
      duration_ms: z.number(),
    })
    .optional(),
  limits: z
    .object({
      cpus: limitStateSchema,
      memory: limitStateSchema,
      storage: limitStateSchema,
      pids: limitStateSchema,
      network: limitStateSchema,
      notes: z.array(z.string()),
    })
    .optional(),
  /** Earlier attempts of this trial that ended in a retryable infrastructure failure. */
  retries: z.array(z.object({ attempt: z.number(), status: z.string(), message: z.string(), at: z.string() })),
  /** Paths relative to the trial directory. */
  files: z.object({ session_log: z.string(), agent: z.string(), verifier: z.string(), artifacts: z.string() }),
});

export type TrialResult = z.infer<typeof trialResultSchema>;
