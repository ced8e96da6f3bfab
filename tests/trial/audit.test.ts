import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agents } from '../../src/agents/registry.js';
import type { Workspace } from '../../src/environments/types.js';
import { InfraError } from '../../src/errors.js';
import type { Task } from '../../src/task/types.js';
import { environmentRoot, TrialAudit } from '../../src/trial/audit/audit.js';
import { type IsolationInput, isolationAudit } from '../../src/trial/audit/isolation.js';
import { AUDIT_SCRIPT, auditEnvironment, type ScanPlan } from '../../src/trial/audit/script.js';
import { diffSnapshots, parseScan } from '../../src/trial/audit/snapshot.js';
import { tamperAudit } from '../../src/trial/audit/tamper.js';
import { type Step, skillMarkers, stepsFromEvents } from '../../src/trial/audit/trajectory.js';
import { SessionLog } from '../../src/util/session-log.js';
import { tempDir } from '../helpers/trials.js';

const TARGETS = ['/app/.claude/skills', '/root/.claude/skills'];

function baseline(steps: Step[], scanOutput = '', skillsActivated?: string[]): ReturnType<typeof isolationAudit> {
  const input: IsolationInput = {
    noSkillsArm: true,
    scan: parseScan(scanOutput),
    scanned: ['/', '/root', '/app'],
    skillTargets: TARGETS,
    skillDirs: ['.claude/skills', '~/.claude/skills'],
    skills: [],
    steps,
    skillsActivated,
    display: (path) => path,
  };
  return isolationAudit(input);
}

describe('isolation audit', () => {
  it('finds nothing in a clean baseline', () => {
    const audit = baseline([{ input: 'ls', output: 'main.py\n' }]);
    expect(audit).toMatchObject({ checked: true, contaminated: false, complete: true, findings: [], skills: [] });
  });

  it('flags a SKILL.md or a non-empty skill folder found at agent start', () => {
    const audit = baseline([], 'skill_file\t/opt/x/SKILL.md\nskill_dir\t/root/.claude/skills\nincomplete\n');
    expect(audit.contaminated).toBe(true);
    expect(audit.complete).toBe(false);
    expect(audit.findings.map((f) => [f.kind, f.detail])).toEqual([
      ['skill_file', '/opt/x/SKILL.md'],
      ['skill_dir', '/root/.claude/skills is not empty'],
    ]);
  });

  it('flags a skill tool call, a skill event, a reported skill and a marker in an output', () => {
    const events = stepsFromEvents([
      { type: 'tool_call', at: 't', tool: 'Skill', input: { skill: 'pdf' } },
      { type: 'skill', at: 't', skill: 'pdf', how: 'read SKILL.md' },
      { type: 'command', at: 't', command: 'ls -a', stdout: '.claude/skills\n' },
      { type: 'tool_call', at: 't', tool: 'activate_skill', input: { name: 'x' } },
    ]);
    const audit = baseline(events, '', ['pdf']);
    expect(audit.contaminated).toBe(true);
    expect(audit.findings.map((f) => f.kind)).toEqual([
      'skills_activated',
      'skill_tool',
      'skill_event',
      'marker_in_output',
      'skill_tool',
    ]);
  });

  it('records an agent searching for SKILL.md without contaminating the trial', () => {
    const audit = baseline([{ input: 'find / -name SKILL.md', output: '' }]);
    expect(audit.contaminated).toBe(false);
    expect(audit.findings).toEqual([
      { source: 'trajectory', kind: 'marker_in_input', detail: 'find / -name SKILL.md', contaminating: false },
    ]);
  });

  it('in the with-skills arm: where each skill was missing, and whether the agent opened it', () => {
    const audit = isolationAudit({
      noSkillsArm: false,
      scan: parseScan(
        'present\t/app/.claude/skills/pdf/SKILL.md\npresent\t/root/.claude/skills/pdf/SKILL.md\npresent\t/app/.claude/skills/xlsx/SKILL.md\n',
      ),
      scanned: [],
      skillTargets: TARGETS,
      skillDirs: ['.claude/skills'],
      skills: ['pdf', 'xlsx'],
      steps: [{ input: 'cat .claude/skills/pdf/SKILL.md', output: 'SKILL.md content' }],
      skillsActivated: undefined,
      display: (path) => path,
    });
    expect(audit.contaminated).toBe(false);
    expect(audit.findings).toEqual([]);
    expect(audit.skills).toEqual([
      { name: 'pdf', present: true, missing_from: [], opened: true },
      { name: 'xlsx', present: false, missing_from: ['/root/.claude/skills'], opened: false },
    ]);
  });

  it('matches SKILL.md and the skill folders, not the bare word "skills"', () => {
    const marker = skillMarkers(['.claude/skills', '~/.gemini/skills/', 'skills']);
    expect(marker.test('cat skill.md')).toBe(true);
    expect(marker.test('ls ~/.gemini/skills')).toBe(true);
    expect(marker.test('my skills are great')).toBe(false);
  });
});

describe('tamper audit', () => {
  const before = parseScan(
    [
      'snap:verifier_logs\t/logs/verifier\td 4096 1.0',
      'snap:path_tools\t/usr/bin/python3\tf 10 1.0 5',
      'snap:path_tools\t/usr/bin/pytest\tf 10 1.0 6',
      'snap:interpreter\t/usr/bin/bash\taaaa',
      'snap:skill\t/app/.claude/skills/pdf/SKILL.md\t1111',
    ].join('\n'),
  );

  it('finds nothing when nothing changed', () => {
    expect(tamperAudit(diffSnapshots(before, before), (p) => p)).toEqual({
      checked: true,
      tampered: false,
      findings: [],
    });
  });

  it('names each change to verifier territory; a newly installed tool is no tampering, a shadowing one is', () => {
    const after = parseScan(
      [
        'snap:verifier_logs\t/logs/verifier\td 4096 2.0',
        'snap:verifier_logs\t/logs/verifier/reward.txt\tf 2 2.0',
        'snap:tests\t/tests/test.sh\tf 20 2.0',
        'snap:path_tools\t/usr/local/bin/python3\tf 10 2.0 7',
        'snap:path_tools\t/usr/local/bin/jq\tf 10 2.0 8',
        'snap:path_tools\t/usr/bin/python3\tf 10 1.0 5',
        'snap:interpreter\t/usr/bin/bash\tbbbb',
      ].join('\n'),
    );
    const audit = tamperAudit(diffSnapshots(before, after), (p) => p);
    expect(audit.tampered).toBe(true);
    expect(audit.findings).toEqual([
      { kind: 'verifier_logs', change: 'added', path: '/logs/verifier/reward.txt' },
      { kind: 'path_tools', change: 'added', path: '/usr/local/bin/python3' },
      { kind: 'path_tools', change: 'removed', path: '/usr/bin/pytest' },
      { kind: 'interpreter', change: 'changed', path: '/usr/bin/bash' },
      { kind: 'skill', change: 'removed', path: '/app/.claude/skills/pdf/SKILL.md' },
      { kind: 'tests', change: 'added', path: '/tests/test.sh' },
    ]);
  });

  it('takes a read-only tool as one the verifier had, listed at either scan, and never as removed', () => {
    const first = parseScan(
      ['snap:path_tools\t/root/bin/superlint\tf 10 1.0 5', 'snap:path_tools\t/usr/bin/superlint\tread-only'].join('\n'),
    );
    const later = parseScan(
      [
        'snap:path_tools\t/root/bin/superlint\tf 10 1.0 5',
        'snap:path_tools\t/root/bin/cmp\tf 10 2.0 9',
        'snap:path_tools\t/root/bin/brand-new-tool\tf 10 2.0 10',
        'snap:path_tools\t/usr/bin/cmp\tread-only',
      ].join('\n'),
    );
    expect(diffSnapshots(first, later)).toEqual([{ area: 'path_tools', change: 'added', path: '/root/bin/cmp' }]);
  });

  it('keeps at most 50 findings and says how many more there were', () => {
    const after = parseScan(Array.from({ length: 60 }, (_, i) => `snap:tests\t/tests/f${i}\tf 1 1.0`).join('\n'));
    const audit = tamperAudit(diffSnapshots(parseScan(''), after), (p) => p);
    expect(audit.findings).toHaveLength(50);
    expect(audit.more).toBe(10);
  });
});

describe('audit.sh', () => {
  /** Runs the audit program on this machine over a small tree, as a workspace exec would. */
  function runAudit(plan: ScanPlan, point: 'before' | 'after'): string {
    return execFileSync('bash', ['-c', AUDIT_SCRIPT], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...auditEnvironment(plan, point) },
      encoding: 'utf8',
    });
  }
  const tree = (): { root: string; plan: ScanPlan } => {
    const root = mkdtempSync(join(tmpdir(), 'audit-sh-'));
    mkdirSync(join(root, 'app/.claude/skills/pdf'), { recursive: true });
    writeFileSync(join(root, 'app/.claude/skills/pdf/SKILL.md'), '---\nname: pdf\n---\n');
    mkdirSync(join(root, 'logs/verifier'), { recursive: true });
    const plan: ScanPlan = {
      searchSkills: true,
      scanRoots: [root],
      prune: [join(root, 'proc')],
      skillTargets: [join(root, 'app/.claude/skills')],
      skills: [],
      territory: {
        verifierLogs: [join(root, 'logs/verifier')],
        tests: join(root, 'tests'),
        solution: join(root, 'solution'),
      },
    };
    return { root, plan };
  };

  it('searches the file system only in the no-skills arm, and checks presence only in the with-skills arm', () => {
    const { root, plan } = tree();
    const skillFile = join(root, 'app/.claude/skills/pdf/SKILL.md');
    const noSkills = runAudit(plan, 'before');
    expect(noSkills).toContain(`skill_file\t${skillFile}\n`);
    expect(noSkills).toContain(`skill_dir\t${join(root, 'app/.claude/skills')}\n`);
    expect(noSkills).not.toContain('present\t');
    const withSkills = runAudit({ ...plan, searchSkills: false, skills: ['pdf'] }, 'before');
    expect(withSkills).not.toContain('skill_file\t');
    expect(withSkills).toContain(`present\t${skillFile}\n`);
    expect(withSkills).toMatch(new RegExp(`snap:skill\t${skillFile}\t[0-9a-f]{64}`));
    const after = runAudit(plan, 'after');
    expect(after).not.toContain('skill_file\t');
    expect(after).toContain(`snap:verifier_logs\t${join(root, 'logs/verifier')}\td `);
    expect(after).toMatch(/snap:interpreter\t\S+bash\t[0-9a-f]{64}/);
    rmSync(root, { recursive: true, force: true });
  });

  it('takes the environment root from the workspace paths', () => {
    expect(environmentRoot(['/app', '/root', '/tmp'])).toBe('/');
    expect(environmentRoot(['/tmp/r1/app', '/tmp/r1/root', '/tmp/r1/logs/agent'])).toBe('/tmp/r1');
  });
});

describe('TrialAudit', () => {
  const paths = {
    workdir: '/app',
    home: '/root',
    tmp: '/tmp',
    logsAgent: '/logs/agent',
    logsVerifier: '/logs/verifier',
    logsArtifacts: '/logs/artifacts',
    tests: '/tests',
    solution: '/solution',
  };

  async function audit(exec: Workspace['exec']): Promise<TrialAudit> {
    const dir = await tempDir('audit');
    const log = new SessionLog(join(dir, 'session.jsonl'));
    log.record({ type: 'command', source: 'agent', command: 'ls -R ~', stdout: '.claude/skills/x/SKILL.md' });
    const workspace = { paths, exec } as unknown as Workspace;
    const task = { config: { verifier: { env: {} }, environment: {} } } as unknown as Task;
    return new TrialAudit({
      workspace,
      agent: agents.oracle,
      task,
      arm: 'no-skills',
      skills: [],
      skillTargets: ['/app/.claude/skills'],
      log,
    });
  }

  it('records the audits as unchecked, with the reason, when the scan cannot run; nothing is thrown', async () => {
    const trial = await audit(async () => {
      throw new InfraError('engine gone');
    });
    await trial.beforeAgent();
    await trial.afterAgent(undefined);
    const { isolation, tamper } = trial.blocks();
    expect(isolation).toMatchObject({
      checked: false,
      contaminated: false,
      error: 'the audit scan could not run: engine gone',
    });
    expect(tamper).toMatchObject({ checked: false, tampered: false });
  });

  it('reads the trajectory from session.jsonl when the agent reported nothing (a timeout)', async () => {
    const ok = { exitCode: 0, timedOut: false, aborted: false, stdout: '', stderr: '', durationMs: 1 };
    const trial = await audit(async () => ok);
    await trial.beforeAgent();
    await trial.afterAgent(undefined);
    const { isolation } = trial.blocks();
    expect(isolation.checked).toBe(true);
    expect(isolation.contaminated).toBe(true);
    expect(isolation.findings[0]).toMatchObject({ kind: 'marker_in_output', source: 'trajectory' });
  });
});
