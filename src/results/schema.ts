import { z } from 'zod';
import { isArmName, SIMPLE_ARMS } from '../arms/spec.js';

/**
 * Every trial ends in exactly one of these. Only `passed`/`failed`/`agent_*` are model outcomes; `budget_exceeded`
 * (the model gateway stopped the agent at a --max-tokens-per-trial / --max-cost-per-trial / --max-cost budget) and
 * `replay_miss` (`eval --replay`: a request the recording had no answer for) say why the agent was stopped: the
 * trial is verified, but it is no evidence about the model either way.
 */
export const TRIAL_STATUSES = [
  'passed',
  'failed',
  'agent_timeout',
  'agent_error',
  'verifier_error',
  'infra_error',
  'budget_exceeded',
  'replay_miss',
] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/**
 * Statuses that say nothing about the model, left out of every rate (summary, reports, analyze, --trials auto):
 * the infrastructure or the verifier failed, or the gateway stopped the agent (budget, replay miss).
 */
export const EXCLUDED_STATUSES: ReadonlySet<TrialStatus> = new Set([
  'infra_error',
  'verifier_error',
  'budget_exceeded',
  'replay_miss',
]);

/** The two arms every version knows, in display order (more: src/arms/spec.ts, `eval --arms`). */
export const ARMS = ['with-skills', 'no-skills'] as const;

/** An arm's name: one of ARMS or another `--arms` form (skill-as-prompt, skill-variant:NAME=DIR, …). */
export const armNameSchema = z.string().refine(isArmName, {
  message: `expected an arm (${SIMPLE_ARMS.join(', ')}, skill-variant:NAME=DIR, with-distractors:N, with ~aa for an A/A replica)`,
});

/** Where an injected skill came from (docs/results.md). Absent in results of earlier versions. */
export const skillSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), path: z.string() }),
  z.object({ kind: z.literal('path'), path: z.string() }),
  z.object({
    kind: z.literal('git'),
    url: z.string(),
    ref: z.string().optional(),
    subdir: z.string().optional(),
    commit: z.string(),
    path: z.string(),
  }),
]);

const skillDigestSchema = z.object({
  name: z.string(),
  description: z.string(),
  fileCount: z.number(),
  bytes: z.number(),
  /** sha256 over (relative path, mode, content) of the skill folder's files (without mode in earlier versions). */
  sha256: z.string(),
  source: skillSourceSchema.optional(),
});

const agentUsageSchema = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedInputTokens: z.number(),
  costUsd: z.number().optional(),
  costEstimated: z.boolean().optional(),
  turns: z.number().optional(),
});

/**
 * Token usage and cost (docs/results.md). With the model gateway (`source: "gateway"`) the numbers are the
 * provider's own, summed over the calls it forwarded, and the cost is the price table's; the CLI's own figure is
 * kept in `agentReported`, and `mismatch` says where the two disagree. Without it they are the CLI's.
 */
const usageSchema = agentUsageSchema.extend({
  reasoningTokens: z.number().optional(),
  /** Absent in results of earlier versions: the CLI's. */
  source: z.enum(['gateway', 'agent']).optional(),
  /** Model calls the gateway forwarded (or replayed), retries of upstream 429/5xx, calls answered with an error. */
  calls: z.number().optional(),
  retries: z.number().optional(),
  failedCalls: z.number().optional(),
  /** Model ids the upstream said served the calls, in order of first use. */
  modelsServed: z.array(z.string()).optional(),
  /** The price table's date (prices.ts), and true when some model had no price (costUsd is then a lower bound). */
  pricesAsOf: z.string().optional(),
  costIncomplete: z.boolean().optional(),
  agentReported: agentUsageSchema.optional(),
  mismatch: z.string().optional(),
});

const limitStateSchema = z.enum(['enforced', 'not enforced', 'not applicable']);

/** One sign that a skill reached the trial: in its environment at agent start, or in what the agent did. */
const isolationFindingSchema = z.object({
  source: z.enum(['environment', 'trajectory']),
  /** skill_file, skill_dir, skill_tool, skill_event, skills_activated, marker_in_output, marker_in_input. */
  kind: z.string(),
  detail: z.string(),
  /** A mention in the agent's own input (it searched for SKILL.md) is recorded but contaminates nothing. */
  contaminating: z.boolean(),
});

/** Whether the arm saw exactly the skills it should (docs/results.md). Absent in results of earlier versions. */
const isolationSchema = z.object({
  /** False when the audit could not run (the trial ended before the agent, or the scan failed: see `error`). */
  checked: z.boolean(),
  /** No-skills arm only: a skill reached the baseline. Such a trial is left out of analyze's rates by default. */
  contaminated: z.boolean(),
  /** What the environment scan searched (environment paths). */
  scanned: z.array(z.string()),
  /** False when the scan stopped at its time bound. */
  complete: z.boolean(),
  findings: z.array(isolationFindingSchema),
  /** With-skills arm: each skill, whether it was where the agent looks, and whether the agent opened it. */
  skills: z.array(
    z.object({ name: z.string(), present: z.boolean(), missing_from: z.array(z.string()), opened: z.boolean() }),
  ),
  error: z.string().optional(),
});

export const TAMPER_KINDS = ['verifier_logs', 'tests', 'solution', 'interpreter', 'path_tools', 'skill'] as const;

/** Whether the agent touched verifier territory (docs/results.md). The reward is still the verifier's. */
const tamperSchema = z.object({
  checked: z.boolean(),
  tampered: z.boolean(),
  findings: z.array(
    z.object({ kind: z.enum(TAMPER_KINDS), change: z.enum(['added', 'changed', 'removed']), path: z.string() }),
  ),
  /** Findings left out of the list (it is bounded). */
  more: z.number().optional(),
  error: z.string().optional(),
});

/** The trial's final workdir, archived right after the agent (docs/results.md). Absent in results of earlier versions. */
const workspaceSchema = z.object({
  /** Relative to the trial directory; absent when there is no archive (see `note`). */
  archive: z.string().optional(),
  bytes: z.number().optional(),
  sha256: z.string().optional(),
  /** The cap the archive was held to (0: archiving was turned off). */
  max_bytes: z.number(),
  /** Why there is no archive: over the cap, turned off, failed, removed by redaction. */
  note: z.string().optional(),
});

/** Where a regraded result came from (`skill-eval regrade`, docs/results.md). */
const regradeSchema = z.object({
  /** The trial directory whose archive was verified again, relative to the regrade directory. */
  source_trial: z.string(),
  source_status: z.enum(TRIAL_STATUSES),
  source_reward: z.number().optional(),
  regraded_at: z.string(),
  /** sha256 of the task's tests/ directory when the trial ran (absent for trials of earlier versions), and now. */
  verifier_digest_before: z.string().optional(),
  verifier_digest_after: z.string().optional(),
  /** The whole task directory's checksum when the trial ran, and now. */
  task_checksum_before: z.string(),
  task_checksum_after: z.string(),
});

/**
 * What a no-skills trial's outcome depends on (docs/results.md; src/trial/fingerprint.ts builds it): `eval
 * --baseline-from` reuses a trial only when these match. The pass threshold is not among them (rewards are kept).
 */
export const baselineFieldsSchema = z.object({
  /** LIFECYCLE_VERSION (src/trial/fingerprint.ts): bumped when a change alters what a trial measures. */
  lifecycle_version: z.number(),
  /** The task directory's checksum without its own skills (they never reach the no-skills arm). */
  task_checksum: z.string(),
  agent: z.string(),
  /** A CLI agent's npm package and version; a configurable agent's command (redacted); else the name. */
  agent_version: z.string(),
  model: z.string().optional(),
  provider: z.string(),
  limits: z.object({
    cpus: z.number(),
    memory_mb: z.number(),
    storage_mb: z.number(),
    gpus: z.number(),
    allow_internet: z.boolean(),
    network_mode: z.string().optional(),
    docker_image: z.string().optional(),
    /** `eval --network` / `--runtime`, which replace task.toml's policy for every trial. */
    network_override: z.string().optional(),
    runtime_override: z.string().optional(),
    agent_timeout_sec: z.number(),
    verifier_timeout_sec: z.number(),
  }),
});

/** One grader's score (docs/graders.md). */
const graderResultSchema = z.object({
  name: z.string(),
  type: z.string(),
  weight: z.number(),
  score: z.number().optional(),
  details: z.string().optional(),
  checks: z.array(z.object({ name: z.string(), passed: z.boolean(), message: z.string().optional() })).optional(),
  error: z.string().optional(),
  duration_ms: z.number().optional(),
  model: z.string().optional(),
  warning: z.string().optional(),
});

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
  /** sha256 of the task's tests/ directory (what verification copies in). Absent in results of earlier versions. */
  verifier_digest: z.string().optional(),
  agent: z.string(),
  model: z.string().optional(),
  provider: z.string(),
  arm: armNameSchema,
  status: z.enum(TRIAL_STATUSES),
  /** Absent when no reward was produced (verifier or infra error). Never 0 in its place. */
  reward: z.number().optional(),
  /** All numbers of reward.json, when the reward came from there. */
  rewards: z.record(z.string(), z.number()).optional(),
  reward_source: z.string().optional(),
  error: z
    .object({
      kind: z.enum(['infra', 'agent', 'agent_timeout', 'verifier', 'cancelled', 'budget_exceeded', 'replay_miss']),
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
  /** What the arm gave this trial beyond its skills (docs/results.md "Arms"); absent for no-skills and with-skills. */
  arm_setup: z
    .object({
      /** skill-as-prompt: the skills whose SKILL.md text was appended to the instruction. */
      prompt_skills: z.array(skillDigestSchema).optional(),
      /** with-distractors:N: the seed of the draw and the pool skills drawn. */
      distractors: z.object({ seed: z.number(), names: z.array(z.string()), pool: z.string().optional() }).optional(),
      /** skill-variant:NAME=DIR: the task skill replaced (replaced false: the task had none, the variant was added). */
      variant: z.object({ name: z.string(), replaced: z.boolean() }).optional(),
      /** self-generated: what the writing phase produced (its session log is in the trial directory). */
      self_generated: z
        .object({
          skill: skillDigestSchema.optional(),
          error: z.string().optional(),
          usage: usageSchema.optional(),
          duration_ms: z.number(),
          session_log: z.string(),
        })
        .optional(),
    })
    .optional(),
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
      /** Local provider: whether commands ran in its bubblewrap sandbox (docs/providers.md). */
      sandbox: limitStateSchema.optional(),
      /** Docker: the engine runtime when not the default (`--runtime=runsc`: gVisor). */
      runtime: z.string().optional(),
      notes: z.array(z.string()),
    })
    .optional(),
  /** Each grader and its score; the reward combines them by weight. Absent in results of earlier versions. */
  graders: z.array(graderResultSchema).optional(),
  isolation: isolationSchema.optional(),
  tamper: tamperSchema.optional(),
  workspace: workspaceSchema.optional(),
  regrade: regradeSchema.optional(),
  /** No-skills trials: sha256 of the canonical JSON of `baseline_fields`. Absent in results of earlier versions. */
  baseline_fingerprint: z.string().optional(),
  baseline_fields: baselineFieldsSchema.optional(),
  /** The trial was copied from an earlier job (`eval --baseline-from`), where it ran. */
  reused_from: z.object({ job_id: z.string(), trial_dir: z.string() }).optional(),
  /** Earlier attempts of this trial that ended in a retryable infrastructure failure. */
  retries: z.array(z.object({ attempt: z.number(), status: z.string(), message: z.string(), at: z.string() })),
  /** The trial's model gateway (docs/results.md): absent without one (agents without a model API, `--no-gateway`). */
  gateway: z
    .object({
      /** The protocols it served (anthropic, gemini, openai). */
      protocols: z.array(z.string()),
      /** Its URL as the agent saw it, inside the sandbox (a forwarder to the gateway's socket). */
      agent_url: z.string(),
      /** Why it stopped the agent: budget_exceeded, replay_miss, upstream_failed. */
      stop: z.object({ kind: z.string(), message: z.string() }).optional(),
      /** `eval --replay`: the recording the calls were answered from. */
      replayed_from: z.string().optional(),
    })
    .optional(),
  /** Paths relative to the trial directory. `model_calls`: every model call, when the gateway recorded them. */
  files: z.object({
    session_log: z.string(),
    agent: z.string(),
    verifier: z.string(),
    artifacts: z.string(),
    model_calls: z.string().optional(),
  }),
});

export type TrialResult = z.infer<typeof trialResultSchema>;
export type BaselineFields = z.infer<typeof baselineFieldsSchema>;
export type SkillSourceRecord = z.infer<typeof skillSourceSchema>;
export type WorkspaceBlock = z.infer<typeof workspaceSchema>;
export type RegradeProvenance = z.infer<typeof regradeSchema>;
export type GraderResultRecord = z.infer<typeof graderResultSchema>;
export type IsolationAudit = z.infer<typeof isolationSchema>;
export type IsolationFinding = z.infer<typeof isolationFindingSchema>;
export type TamperAudit = z.infer<typeof tamperSchema>;
export type TamperFinding = TamperAudit['findings'][number];
