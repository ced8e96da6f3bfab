import { createHash } from 'node:crypto';
import { CLI_AGENTS, isCliAgent } from '../agents/cli/packages.js';
import type { Agent } from '../agents/types.js';
import type { BaselineFields } from '../results/schema.js';
import { SKILL_LAYOUTS } from '../skills/discover.js';
import type { Task } from '../task/types.js';
import { hashEntries, listFiles } from '../util/file-tree.js';

/**
 * The version of what a trial measures. Bump it when a change to skill-eval alters what a trial measures (how
 * the workspace is set up, how the agent is run, how the verifier's reward is read): earlier no-skills trials
 * then no longer stand in for new ones (`eval --baseline-from`, docs/results.md).
 */
export const LIFECYCLE_VERSION = 1;

export type { BaselineFields };

export interface BaselineFingerprint {
  /** sha256 of the canonical JSON of `fields`. */
  sha256: string;
  fields: BaselineFields;
}

export interface FingerprintInput {
  task: Task;
  /** baselineTaskChecksum(task). */
  taskChecksum: string;
  agent: Agent;
  model?: string | undefined;
  provider: string;
  network?: string | undefined;
  runtime?: string | undefined;
  agentTimeoutSec?: number | undefined;
  verifierTimeoutSec?: number | undefined;
  /** The command of a configurable agent is recorded as job.json records it: redacted. */
  redact: (text: string) => string;
}

/**
 * The task's checksum without its skill folders (`skills/`, `environment/skills/`): editing a SKILL.md changes the
 * with-skills arm only, so the no-skills trials of the earlier task still stand. Everything else counts
 * (instruction, task.toml, environment, tests, solution).
 */
export async function baselineTaskChecksum(task: Pick<Task, 'dir' | 'checksum'>): Promise<string> {
  const skillDirs = SKILL_LAYOUTS.map(({ relativeDir }) => `${relativeDir}/`);
  const files = await listFiles(task.dir);
  const kept = files.filter((file) => !skillDirs.some((dir) => file.relativePath.startsWith(dir)));
  // No skill folder: the same files as the task's checksum.
  return kept.length === files.length ? task.checksum : hashEntries(kept, { includeMode: true });
}

function agentVersion(agent: Agent, redact: (text: string) => string): string {
  if (isCliAgent(agent.name)) {
    const pkg = CLI_AGENTS[agent.name].package;
    return `${pkg.npmPackage}@${pkg.version}${pkg.revision ? `-${pkg.revision}` : ''}`;
  }
  return agent.command === undefined ? agent.name : `${agent.name}: ${redact(agent.command)}`;
}

export function baselineFingerprint(input: FingerprintInput): BaselineFingerprint {
  const env = input.task.config.environment;
  const fields: BaselineFields = {
    lifecycle_version: LIFECYCLE_VERSION,
    task_checksum: input.taskChecksum,
    agent: input.agent.name,
    agent_version: agentVersion(input.agent, input.redact),
    model: input.model,
    provider: input.provider,
    limits: {
      cpus: env.cpus,
      memory_mb: env.memoryMb,
      storage_mb: env.storageMb,
      gpus: env.gpus,
      allow_internet: env.allowInternet,
      network_mode: env.networkMode,
      docker_image: env.dockerImage,
      network_override: input.network,
      runtime_override: input.runtime,
      agent_timeout_sec: input.agentTimeoutSec ?? input.task.config.agent.timeoutSec,
      verifier_timeout_sec: input.verifierTimeoutSec ?? input.task.config.verifier.timeoutSec,
    },
  };
  return { sha256: fingerprintHash(fields), fields };
}

/** JSON with sorted keys and no undefined values: one text per value, whatever order it was built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function fingerprintHash(fields: BaselineFields): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

export interface FieldDifference {
  /** `task checksum`, `agent version`, `limits.cpus`, … */
  field: string;
  expected: string;
  found: string;
}

/** Each field that differs, named for people (`task_checksum` → `task checksum`); `found` undefined: not recorded. */
export function fingerprintDifferences(expected: BaselineFields, found: BaselineFields | undefined): FieldDifference[] {
  if (found === undefined)
    return [{ field: 'fingerprint', expected: fingerprintHash(expected).slice(0, 12), found: 'none recorded' }];
  const differences: FieldDifference[] = [];
  const compare = (name: string, a: unknown, b: unknown): void => {
    if (canonicalJson(a ?? null) !== canonicalJson(b ?? null))
      differences.push({ field: name.replaceAll('_', ' '), expected: shown(a), found: shown(b) });
  };
  for (const key of Object.keys(expected) as Array<keyof BaselineFields>) {
    if (key === 'limits') continue;
    compare(key, expected[key], found[key]);
  }
  const foundLimits: Partial<BaselineFields['limits']> = found.limits ?? {};
  for (const key of Object.keys(expected.limits) as Array<keyof BaselineFields['limits']>)
    compare(`limits.${key}`, expected.limits[key], foundLimits[key]);
  return differences;
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Checksums are long: their first 12 digits tell them apart.
  return /^[0-9a-f]{64}$/.test(text) ? text.slice(0, 12) : text;
}
