import { mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Usage } from '../../agents/types.js';
import { TrialGateway, usesGateway } from '../../gateway/trial.js';
import { loadSkill } from '../../skills/discover.js';
import { type Skill, type SkillDigest, skillDigest } from '../../skills/types.js';
import { SessionLog } from '../../util/session-log.js';
import type { TrialContext } from '../types.js';
import { runAgentRouted } from './agent-gateway.js';
import { prepareWorkspace } from './prepare.js';

/** The skill's name and folder: what the solving phase is given, and what `analyze` lists. */
export const SELF_GENERATED_SKILL = 'self-generated';
/** In the trial directory: the writing phase's own session log and the skill it wrote. */
export const SELF_GENERATED_DIR = 'self-generated';

/** What the writing phase produced (result.json `arm_setup.self_generated`). */
export interface SelfGenerated {
  skill?: Skill | undefined;
  /** Why there is no skill (the agent wrote none, or an invalid SKILL.md); the solving phase then has none. */
  error?: string | undefined;
  usage?: Usage | undefined;
  durationMs: number;
  /** The trial-directory-relative session log of the writing phase. */
  sessionLog: string;
}

export function selfGeneratedBlock(generated: SelfGenerated): {
  skill?: SkillDigest | undefined;
  error?: string | undefined;
  usage?: Usage | undefined;
  duration_ms: number;
  session_log: string;
} {
  return {
    skill: generated.skill && skillDigest(generated.skill),
    error: generated.error,
    usage: generated.usage,
    duration_ms: generated.durationMs,
    session_log: generated.sessionLog,
  };
}

/** The writing phase's instruction: the task, and where the skill goes — not the solution. */
export function selfGenerateInstruction(instruction: string, skillDir: string): string {
  return [
    'Do not solve the task below yet. First write a skill that would help an agent solve tasks like it:',
    `a folder ${skillDir} holding SKILL.md — YAML frontmatter with \`name: ${SELF_GENERATED_SKILL}\` and a one-line`,
    '`description`, then the procedure, pitfalls and commands you would follow — and, if useful, scripts/ or',
    'references/ beside it. Write only that folder; change nothing else. The task:',
    '',
    instruction.trim(),
    '',
  ].join('\n');
}

/**
 * self-generated (SkillsBench's third condition): in a workspace of its own — so nothing it does reaches the
 * solving phase but the skill — the agent writes a skill from the instruction; the skill is copied into the trial
 * directory (`self-generated/skill/`) and loaded. Its session goes to `self-generated/session.jsonl`. An agent
 * that writes no valid skill leaves the solving phase without one (recorded); an infrastructure error is thrown.
 */
export async function selfGenerateSkill(trial: TrialContext): Promise<SelfGenerated> {
  const { spec, runtime } = trial;
  const started = performance.now();
  const dir = join(runtime.trialDir, SELF_GENERATED_DIR);
  mkdirSync(dir, { recursive: true });
  const sessionLog = posix.join(SELF_GENERATED_DIR, 'session.jsonl');
  const log = new SessionLog(join(dir, 'session.jsonl'), runtime.redactor);
  // Its own model gateway (calls in self-generated/model_calls.jsonl): the key stays out of this workspace too.
  const gateway = usesGateway(spec.agent, runtime.gateway) ? await TrialGateway.open(runtime.gateway || {}) : undefined;
  const workspace = await prepareWorkspace(runtime, {
    jobId: spec.jobId,
    trialId: `${trial.trialId}-g`,
    trialName: `${trial.name}-self-generated`,
    gatewayDir: gateway?.dir,
  });
  try {
    const skillDir = posix.join(workspace.paths.tmp, SELF_GENERATED_SKILL);
    const instruction = selfGenerateInstruction(spec.task.instruction, skillDir);
    log.record({ type: 'instruction', text: instruction });
    const { outcome } = await runAgentRouted(
      gateway,
      runtime,
      {
        agent: spec.agent,
        task: spec.task,
        arm: spec.arm,
        model: spec.model,
        instruction,
        workspace,
        skillDirs: [],
        env: runtime.env,
        timeoutMs: trial.agentTimeoutSec * 1000,
        signal: runtime.signal,
        log,
      },
      dir,
    );
    const usage = outcome.result?.usage;
    const hostDir = join(dir, 'skill', SELF_GENERATED_SKILL);
    const found = await workspace.download(skillDir, hostDir);
    const done = (rest: Pick<SelfGenerated, 'skill' | 'error'>): SelfGenerated => ({
      ...rest,
      usage,
      durationMs: Math.round(performance.now() - started),
      sessionLog,
    });
    if (!found) return done({ error: `the agent wrote no skill (${skillDir} does not exist)` });
    const loaded = await loadSkill(hostDir, 'flag', { source: { kind: 'path', path: hostDir } });
    if (!loaded.skill)
      return done({ error: `the skill it wrote is invalid: ${loaded.problems.map((p) => p.message).join('; ')}` });
    return done({ skill: loaded.skill });
  } finally {
    await workspace.dispose();
    await gateway?.dispose();
    log.close();
  }
}
