import { posix } from 'node:path';
import { IMAGE_AGENTS_DIR } from '../../agents/cli/run.js';
import type { Agent, AgentRunResult, Arm } from '../../agents/types.js';
import { noSkillFiles } from '../../arms/spec.js';
import type { Workspace } from '../../environments/types.js';
import { errorMessage } from '../../errors.js';
import type { IsolationAudit, TamperAudit } from '../../results/schema.js';
import type { Task } from '../../task/types.js';
import type { SessionLog } from '../../util/session-log.js';
import { isolationAudit } from './isolation.js';
import { AUDIT_SCRIPT, auditEnvironment, SCAN_SECONDS, type ScanPlan } from './script.js';
import { diffSnapshots, parseScan, type ScanOutput } from './snapshot.js';
import { tamperAudit } from './tamper.js';
import { stepsFromEvents, stepsFromSessionLog } from './trajectory.js';

export interface AuditInput {
  workspace: Workspace;
  agent: Agent;
  task: Task;
  arm: Arm;
  /** The skills placed in this trial (none in the no-skills arm) and the folders the agent discovers skills in. */
  skills: readonly string[];
  skillTargets: string[];
  log: SessionLog;
  signal?: AbortSignal | undefined;
}

/** Audits run unless turned off (`eval --no-audit`, TrialRuntime.audit = false). */
export function auditsOn(runtime: { audit?: boolean | undefined }): boolean {
  return runtime.audit !== false;
}

/** Blocks for a trial whose audit never ran (it ended before the agent). */
export function uncheckedAudits(reason: string): { isolation: IsolationAudit; tamper: TamperAudit } {
  return {
    isolation: {
      checked: false,
      contaminated: false,
      scanned: [],
      complete: false,
      findings: [],
      skills: [],
      error: reason,
    },
    tamper: { checked: false, tampered: false, findings: [], error: reason },
  };
}

/**
 * The isolation and tamper audits of one trial: one exec before the agent (the environment scan and a snapshot of
 * verifier territory), one after it, before verification resets anything. A scan that fails is recorded as
 * unchecked, never fails the trial; the reward stays the verifier's.
 */
export class TrialAudit {
  private readonly plan: ScanPlan;
  private readonly display: (path: string) => string;
  private before: ScanOutput | undefined;
  private isolationBlock: IsolationAudit | undefined;
  private tamperBlock: TamperAudit | undefined;
  private failure: string | undefined;
  /** Time the two scans took, for `audit_ms`. */
  durationMs = 0;

  constructor(private readonly input: AuditInput) {
    const { paths } = input.workspace;
    const root = environmentRoot([paths.workdir, paths.home, paths.tmp, paths.logsAgent, paths.tests]);
    this.display = (path) => {
      if (root === '/') return path;
      if (path === root) return '/';
      return path.startsWith(`${root}/`) ? path.slice(root.length) : path;
    };
    this.plan = {
      // skill-as-prompt has the skill's text in its instruction, never a skill file: searched like the baseline.
      searchSkills: noSkillFiles(input.arm),
      scanRoots: [...new Set([root, paths.home, paths.workdir, ...input.skillTargets])],
      prune: ['/proc', '/sys', '/dev', paths.solution, IMAGE_AGENTS_DIR],
      skillTargets: input.skillTargets,
      skills: [...input.skills],
      territory: {
        verifierLogs: [paths.logsVerifier, posix.join(paths.workdir, 'logs/verifier')],
        tests: paths.tests,
        solution: paths.solution,
      },
    };
  }

  async beforeAgent(): Promise<void> {
    this.before = await this.scan('before');
  }

  /** After the agent: compares the snapshots and reads the trajectory (session.jsonl when the agent reported none). */
  async afterAgent(result: AgentRunResult | undefined): Promise<void> {
    const after = this.before && (await this.scan('after'));
    if (!this.before || !after) return;
    const { input } = this;
    const steps = result ? stepsFromEvents(result.events) : stepsFromSessionLog(input.log.path);
    this.isolationBlock = isolationAudit({
      noSkillsArm: this.plan.searchSkills,
      scan: this.before,
      scanned: this.plan.searchSkills ? this.plan.scanRoots : [],
      skillTargets: input.skillTargets,
      skillDirs: [
        ...input.agent.skillDirs,
        ...(input.task.config.environment.skillsDir ? [input.task.config.environment.skillsDir] : []),
      ],
      skills: input.skills,
      steps,
      skillsActivated: result?.skillsActivated,
      display: this.display,
    });
    this.tamperBlock = tamperAudit(diffSnapshots(this.before, after), this.display);
    const { contaminated, findings } = this.isolationBlock;
    input.log.record({
      type: 'note',
      text: `audit: ${contaminated ? 'contaminated' : 'isolated'} (${findings.length} isolation findings), ${this.tamperBlock.tampered ? 'tampered' : 'no tampering'} (${this.tamperBlock.findings.length} tamper findings)`,
    });
  }

  /** The blocks for result.json; unchecked with the reason when a scan failed or the agent never ran. */
  blocks(): { isolation: IsolationAudit; tamper: TamperAudit } {
    const unchecked = uncheckedAudits(this.failure ?? 'the trial ended before the audit finished');
    return { isolation: this.isolationBlock ?? unchecked.isolation, tamper: this.tamperBlock ?? unchecked.tamper };
  }

  private async scan(point: 'before' | 'after'): Promise<ScanOutput | undefined> {
    const started = performance.now();
    try {
      const result = await this.input.workspace.exec(AUDIT_SCRIPT, {
        user: 'root',
        env: { ...this.input.task.config.verifier.env, ...auditEnvironment(this.plan, point) },
        timeoutMs: (SCAN_SECONDS + 40) * 1000,
        signal: this.input.signal,
      });
      if (result.exitCode === 0) return parseScan(result.stdout);
      const how = result.timedOut ? 'timed out' : `failed (exit ${result.exitCode ?? 'unknown'})`;
      return this.failed(`the audit scan ${how}: ${result.stderr.trim().slice(-300)}`);
    } catch (caught) {
      return this.failed(`the audit scan could not run: ${errorMessage(caught)}`);
    } finally {
      this.durationMs += Math.round(performance.now() - started);
    }
  }

  private failed(reason: string): undefined {
    this.failure = reason;
    this.input.log.record({ type: 'note', text: reason });
    return undefined;
  }
}

/** The deepest folder holding every given path: `/` in a container, the trial root on the local provider. */
export function environmentRoot(paths: readonly string[]): string {
  const split = paths.map((path) => path.split('/').filter(Boolean));
  const common: string[] = [];
  for (let i = 0; split.every((parts) => parts.length > i && parts[i] === split[0]![i]); i++)
    common.push(split[0]![i]!);
  return `/${common.join('/')}`;
}
