import type { IsolationAudit, IsolationFinding } from '../../results/schema.js';
import type { ScanOutput } from './snapshot.js';
import { SKILL_TOOL, type Step, skillMarkers } from './trajectory.js';

/** Findings kept per trial: enough to see what leaked and where, bounded whatever the agent printed. */
const MAX_FINDINGS = 50;

export interface IsolationInput {
  noSkillsArm: boolean;
  scan: ScanOutput;
  /** What the environment scan searched (none in the with-skills arm, which has no scan). */
  scanned: string[];
  /** Every folder the agent discovers skills in (environment paths), with its skill names in the with-skills arm. */
  skillTargets: string[];
  skillDirs: readonly string[];
  skills: readonly string[];
  steps: readonly Step[];
  /** What the agent reported opening; undefined when it cannot tell. */
  skillsActivated: readonly string[] | undefined;
  /** Maps a path as the environment reports it to the task's view of it (the local provider's trial root). */
  display: (path: string) => string;
}

/**
 * The isolation block. No-skills arm: a SKILL.md or a non-empty skill folder at agent start, a skill tool call,
 * a skill the agent reported, or a skill marker in what a command or tool returned contaminates the trial; a
 * marker in the agent's own input (it searched for SKILL.md) is recorded only. With-skills arm: each skill's
 * presence in every folder the agent looks in, and whether the agent opened it.
 */
export function isolationAudit(input: IsolationInput): IsolationAudit {
  const findings = input.noSkillsArm ? baselineFindings(input) : [];
  return {
    checked: true,
    contaminated: findings.some((finding) => finding.contaminating),
    scanned: input.scanned.map(input.display),
    complete: !input.scan.incomplete,
    findings: findings.slice(0, MAX_FINDINGS),
    skills: input.skills.map((name) => skillPresence(input, name)),
  };
}

function baselineFindings(input: IsolationInput): IsolationFinding[] {
  const { scan, display } = input;
  const environment = (kind: string, detail: string): IsolationFinding => ({
    source: 'environment',
    kind,
    detail,
    contaminating: true,
  });
  const findings = [
    ...scan.skillFiles.map((path) => environment('skill_file', display(path))),
    ...scan.skillDirs.map((path) => environment('skill_dir', `${display(path)} is not empty`)),
  ];
  if (input.skillsActivated && input.skillsActivated.length > 0)
    findings.push(trajectory('skills_activated', `the agent reported ${input.skillsActivated.join(', ')}`, true));
  const marker = skillMarkers([...input.skillDirs, ...input.skillTargets]);
  for (const step of input.steps) {
    if (findings.length >= MAX_FINDINGS) break;
    if (step.skill !== undefined) findings.push(trajectory('skill_event', `skill ${step.skill} (${step.input})`, true));
    else if (step.tool !== undefined && SKILL_TOOL.test(step.tool))
      findings.push(trajectory('skill_tool', `${step.tool} ${excerpt(step.input)}`, true));
    else if (marker.test(step.output))
      findings.push(trajectory('marker_in_output', `${excerpt(step.input)} → ${around(step.output, marker)}`, true));
    else if (marker.test(step.input)) findings.push(trajectory('marker_in_input', excerpt(step.input), false));
  }
  return findings;
}

function trajectory(kind: string, detail: string, contaminating: boolean): IsolationFinding {
  return { source: 'trajectory', kind, detail, contaminating };
}

function skillPresence(input: IsolationInput, name: string): IsolationAudit['skills'][number] {
  const missing = input.skillTargets.filter((target) => !input.scan.present.has(`${target}/${name}/SKILL.md`));
  const opensIt = new RegExp(`${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/SKILL\\.md`, 'i');
  const opened =
    (input.skillsActivated?.includes(name) ?? false) ||
    input.steps.some(
      (step) =>
        step.skill === name ||
        opensIt.test(step.input) ||
        (step.tool !== undefined && SKILL_TOOL.test(step.tool) && step.input.includes(name)),
    );
  return { name, present: missing.length === 0, missing_from: missing.map(input.display), opened };
}

function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** The part of an output around the first marker. */
function around(text: string, marker: RegExp): string {
  const at = text.search(marker);
  return excerpt(text.slice(Math.max(0, at - 60), at + 100));
}
