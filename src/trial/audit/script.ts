import { readFileSync } from 'node:fs';

/**
 * The audit's shell side: audit.sh, run once before the agent and once after it, told what to list through its
 * environment; its output is one tab-separated line per fact — `TAG<TAB>PATH[<TAB>SIGNATURE]` — parsed by
 * snapshot.ts. GNU find and coreutils (Debian images, the host): elsewhere it prints less, never fails.
 */

/** What the verifier relies on, by area: each area is listed before and after the agent and compared. */
export interface VerifierTerritory {
  /** /logs/verifier and the relative reward folder (`logs/verifier` under the workdir). */
  verifierLogs: string[];
  tests: string;
  solution: string;
}

export interface ScanPlan {
  /** The no-skills arm searches the environment for skills; the with-skills arm checks its own are in place. */
  searchSkills: boolean;
  /** Environment scan for SKILL.md (no-skills arm): the environment's root, HOME, the workdir, the skill dirs. */
  scanRoots: string[];
  /** Never searched: kernel file systems, the oracle's solution, the agent CLIs skill-eval installs (their own bundled skills are the agent's, the same in both arms). */
  prune: string[];
  /** Every folder the agent discovers skills in. */
  skillTargets: string[];
  /** Skills placed in each target (with-skills arm). */
  skills: string[];
  territory: VerifierTerritory;
}

/** How long the file-system search may take; a search that stops there is recorded as incomplete. */
export const SCAN_SECONDS = 20;
/** Lines any one listing may print: a bound on the output, not a limit anyone should hit. */
const LISTING_LINES = 5000;

/** The audit program (audit.sh beside this file; shellcheck reads it, the build copies it next to the code). */
export const AUDIT_SCRIPT = readFileSync(new URL('./audit.sh', import.meta.url), 'utf8');

const list = (paths: readonly string[]): string => paths.join('\n');

/** What audit.sh is told, in its environment: where to look, at which point of the trial. */
export function auditEnvironment(plan: ScanPlan, point: 'before' | 'after'): Record<string, string> {
  const { territory } = plan;
  return {
    AUDIT_POINT: point,
    AUDIT_SEARCH_SKILLS: plan.searchSkills ? '1' : '0',
    AUDIT_SCAN_ROOTS: list(plan.scanRoots),
    AUDIT_PRUNE: list(plan.prune),
    AUDIT_SKILL_TARGETS: list(plan.skillTargets),
    AUDIT_SKILLS: list(plan.skills),
    AUDIT_VERIFIER_LOGS: list(territory.verifierLogs),
    AUDIT_TESTS: territory.tests,
    AUDIT_SOLUTION: territory.solution,
    AUDIT_SCAN_SECONDS: String(SCAN_SECONDS),
    AUDIT_LISTING_LINES: String(LISTING_LINES),
  };
}
