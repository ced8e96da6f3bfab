import type { Workspace } from '../environments/types.js';
import { InterruptedError } from '../errors.js';
import { TrialGateway, type TrialGatewayOutcome, usesGateway } from '../gateway/trial.js';
import { gradeTrial, hasVerifierGrader, needsWorkspaceDiff } from '../graders/run.js';
import type { GraderResult } from '../graders/types.js';
import { combineScores } from '../graders/weighting.js';
import { diffWorkdir, type FileHashes, snapshotWorkdir, type WorkspaceDiff } from '../graders/workspace-diff.js';
import type { WorkspaceBlock } from '../results/schema.js';
import { auditsOn, TrialAudit } from './audit/audit.js';
import type { AgentOutcome, AgentPhaseInput } from './phases/agent.js';
import { runAgentRouted } from './phases/agent-gateway.js';
import { archiveWorkspace } from './phases/archive.js';
import { prepareWorkspace } from './phases/prepare.js';
import { type SelfGenerated, selfGenerateSkill } from './phases/self-generate.js';
import { injectSkills, skillTargets, uploadSolution } from './phases/skills.js';
import { readVerdict, runVerifier, type Verdict, type VerifierSummary, verificationRequest } from './phases/verify.js';
import { infraError } from './status.js';
import type { TrialContext, TrialError } from './types.js';
import { verifierDigest } from './verifier-digest.js';

/**
 * What the phases returned, as far as the trial got: each field is set once, from the value its phase returns.
 * An infrastructure error leaves the later ones unset.
 */
export interface PhaseOutcomes {
  workspace?: Workspace | undefined;
  agent?: AgentOutcome | undefined;
  /** Set as soon as the verifier ran, also when reading its verdict then fails. */
  verifier?: VerifierSummary | undefined;
  verdict?: Verdict | undefined;
  /** The archive of the workdir as the agent left it (or why there is none). */
  archive?: WorkspaceBlock | undefined;
  /** sha256 of the task's tests/ directory, once verification starts. */
  verifierDigest?: string | undefined;
  /** Each grader's score (task.toml's [[graders]], or the implicit verifier), once verification ran. */
  graders?: GraderResult[] | undefined;
  /** What the agent changed in the workdir, recorded only for a task with an llm_rubric grader. */
  diff?: WorkspaceDiff | undefined;
  /** The isolation and tamper audits, once the workspace is ready for the agent. */
  audit?: TrialAudit | undefined;
  /** self-generated arm: the skill the agent wrote first, in a workspace of its own. */
  selfGenerated?: SelfGenerated | undefined;
  /** The infrastructure error that ended the trial early, in the phase the clock was in. */
  infra?: TrialError | undefined;
  /** The trial's model gateway (API agents unless `--no-gateway`), opened before the workspace; cleanup disposes it. */
  gateway?: TrialGateway | undefined;
  /** What the gateway counted and why it stopped the agent, once the agent phase is over. */
  model?: TrialGatewayOutcome | undefined;
}

/** The phases of one kind of trial, in order, each setting its outcome (runInOrder; regrade's own). */
export type PhaseSequence = (trial: TrialContext, outcomes: PhaseOutcomes) => Promise<void>;

/**
 * Runs the phases; cleanup always follows. An infrastructure error ends the sequence and is returned with its
 * phase; a cancel throws InterruptedError once the workspace is disposed. `skill-eval regrade` runs its own
 * sequence (no agent) through the same handling, starting from the outcomes it has stored.
 */
export async function runPhases(
  trial: TrialContext,
  sequence: PhaseSequence = runInOrder,
  outcomes: PhaseOutcomes = {},
): Promise<PhaseOutcomes> {
  try {
    await sequence(trial, outcomes);
  } catch (caught) {
    if (caught instanceof InterruptedError || cancelled(trial)) {
      trial.log.record({ type: 'note', text: 'trial cancelled: no result written' });
      // Disposed at once, outside any phase (what the agent's processes log on the way out comes before the
      // cleanup phase in session.jsonl); the cleanup phase then finds it gone (dispose is idempotent).
      await outcomes.workspace?.dispose();
      await cleanUp(trial, outcomes);
      throw caught instanceof InterruptedError ? caught : new InterruptedError('trial cancelled', { cause: caught });
    }
    outcomes.infra = infraError(caught, trial.clock.current);
    trial.log.record({
      type: 'note',
      text: `infrastructure error in ${outcomes.infra.phase}: ${outcomes.infra.message}`,
    });
  }
  await cleanUp(trial, outcomes);
  return outcomes;
}

/**
 * [self-generated arm: the agent writes its own skill, apart] → fresh workspace → the arm's skills → audit scan → agent under its timeout → audit scan → verifier,
 * always (also after an agent timeout or crash), the logs collected with it.
 */
async function runInOrder(trial: TrialContext, outcomes: PhaseOutcomes): Promise<void> {
  const { spec, runtime, clock, log } = trial;
  const ids = { jobId: spec.jobId, trialId: trial.trialId, trialName: trial.name };
  if (spec.setup?.selfGenerate) {
    outcomes.selfGenerated = await clock.run('self_generate', () => selfGenerateSkill(trial));
    if (outcomes.selfGenerated.skill) trial.injectedSkills = [outcomes.selfGenerated.skill];
  }
  const workspace = await clock.run('environment_setup', async () => {
    // Its socket directory first: the provider shows it in the workspace it creates.
    if (usesGateway(spec.agent, runtime.gateway)) outcomes.gateway = await TrialGateway.open(runtime.gateway || {});
    return prepareWorkspace(runtime, { ...ids, gatewayDir: outcomes.gateway?.dir });
  });
  outcomes.workspace = workspace;

  const skills = trial.injectedSkills;
  // Where this agent looks for skills: where the with-skills arm puts them, where the no-skills arm must find none.
  const targets = skillTargets(spec.agent, spec.task, workspace);
  const skillDirs = skills.length > 0 ? targets : [];
  if (skills.length > 0) {
    await clock.run('skills', () => injectSkills(workspace, skills, skillDirs));
    log.record({ type: 'skills', injected: skills.map((s) => s.name), into: skillDirs });
  }
  await uploadSolution(spec.agent, spec.task, workspace);
  // A cancel during set-up stops the trial here: no agent is started for a trial that will not be kept.
  if (cancelled(trial)) throw new InterruptedError('trial cancelled');
  const audit = auditsOn(runtime)
    ? new TrialAudit({
        workspace,
        agent: spec.agent,
        task: spec.task,
        arm: spec.arm,
        skills: skills.map((skill) => skill.name),
        skillTargets: targets,
        log,
        signal: runtime.signal,
      })
    : undefined;
  outcomes.audit = audit;
  // Between two phases, so it belongs to neither: recorded as audit_ms, after the agent's scan as well.
  await audit?.beforeAgent();
  if (cancelled(trial)) throw new InterruptedError('trial cancelled');

  const { agent, task, arm, model } = spec;
  const timeoutMs = trial.agentTimeoutSec * 1000;
  const agentInput = { agent, task, arm, model, workspace, skillDirs, env: runtime.env, signal: runtime.signal, log };
  // Only a judge reads the workdir's changes: other tasks pay nothing for them.
  const before: FileHashes | undefined = needsWorkspaceDiff(task)
    ? await snapshotWorkdir(workspace, runtime.signal)
    : undefined;
  outcomes.agent = await clock.run('agent', () =>
    agentPhase(trial, outcomes, { ...agentInput, instruction: trial.instruction, timeoutMs }),
  );
  if (cancelled(trial)) throw new InterruptedError('trial cancelled');
  // Before verification removes what the agent planted: the audit must see it first.
  if (audit) {
    await audit.afterAgent(outcomes.agent.result);
    clock.record('audit', audit.durationMs);
  }
  // Also before verification: the workdir as the agent left it is what `skill-eval regrade` verifies again.
  outcomes.archive = await archiveWorkspace(trial, workspace);
  if (cancelled(trial)) throw new InterruptedError('trial cancelled');
  if (before) outcomes.diff = await diffWorkdir(workspace, before, runtime.signal);

  await clock.run('verifier', () => verify(trial, workspace, outcomes));
}

/**
 * agent: through the trial's model gateway when it has one — started now, the agent's env holding only its token
 * and URL, its workspace routed to it; closed (every call written) as soon as the agent is done, so nothing the
 * agent left running can call it during verification.
 */
async function agentPhase(trial: TrialContext, outcomes: PhaseOutcomes, input: AgentPhaseInput): Promise<AgentOutcome> {
  try {
    const routed = await runAgentRouted(outcomes.gateway, trial.runtime, input, trial.runtime.trialDir);
    return routed.outcome;
  } finally {
    outcomes.model = await outcomes.gateway?.finish();
  }
}

/**
 * verifier: the tests run and the logs come out (collect), the verdict is read from the copy; then the other
 * graders (task.toml's [[graders]]) score the trial and the reward is their weighted mean. Shared with
 * `skill-eval regrade` (src/regrade/), which runs it on a restored workdir: one verification for both.
 */
export async function verify(
  trial: TrialContext,
  workspace: Workspace,
  outcomes: Pick<PhaseOutcomes, 'agent' | 'diff' | 'verifier' | 'verdict' | 'verifierDigest' | 'graders'>,
): Promise<void> {
  const { spec, runtime, clock, log } = trial;
  outcomes.verifierDigest = await verifierDigest(spec.task);
  const { trialDir, redactor, signal } = runtime;
  const timeoutMs = trial.verifierTimeoutSec * 1000;
  const runTests = hasVerifierGrader(spec.task);
  const run = await runVerifier(
    workspace,
    verificationRequest(workspace, spec.task, { trialDir, timeoutMs, signal, runTests }),
    log,
  );
  // Recorded inside the verifier phase, so collect_ms comes before verifier_ms in the timings, as it always has.
  clock.record('collect', run.collectMs);
  if (runTests) outcomes.verifier = run.summary;
  if (cancelled(trial)) throw new InterruptedError('trial cancelled');
  const verdict = runTests ? await readVerdict(run, { workspace, trialDir, redactor, log }) : undefined;
  const graders = await gradeTrial({
    task: spec.task,
    workspace,
    trialDir,
    redactor,
    log,
    signal,
    verifierTimeoutMs: timeoutMs,
    agent: { name: spec.agent.name, model: spec.model, result: outcomes.agent?.result },
    diff: outcomes.diff,
    judge: runtime.judge ?? { env: process.env },
    verifier: verdict && {
      reward: verdict.ok ? verdict.reward : undefined,
      error: verdict.ok ? undefined : verdict.message,
      durationMs: run.result.durationMs,
    },
  });
  outcomes.graders = graders;
  outcomes.verdict = combinedVerdict(spec.task.config.graders === undefined, verdict, graders);
}

/** A task without [[graders]] keeps the verifier's own verdict (reward, rewards, source) exactly as before. */
function combinedVerdict(implicit: boolean, verdict: Verdict | undefined, graders: GraderResult[]): Verdict {
  if (implicit && verdict) return verdict;
  const combined = combineScores(graders);
  if (!combined.ok) return combined;
  const rewards = verdict?.ok ? verdict.rewards : undefined;
  return { ok: true, reward: combined.reward, rewards, source: 'graders (weighted mean)' };
}

/** cleanup: the workspace and the gateway go whatever happened; the session log closes last. */
async function cleanUp(trial: TrialContext, outcomes: Pick<PhaseOutcomes, 'workspace' | 'gateway'>): Promise<void> {
  const { workspace, gateway } = outcomes;
  try {
    if (workspace) await trial.clock.run('cleanup', () => workspace.dispose());
  } finally {
    await gateway?.dispose();
    trial.log.close();
  }
}

function cancelled(trial: TrialContext): boolean {
  return trial.runtime.signal?.aborted === true;
}
