import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { analyzeResults } from '../../src/analytics/analyze.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { trialResultSchema } from '../../src/results/schema.js';
import { resolveFlagSkills, withFlagSkills } from '../../src/skills/sources.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { FIXTURES, loadFixtureTask, readText, runOne, tempDir } from '../helpers/trials.js';

/** Every file under dir, recursively, with its bytes. */
async function allFiles(dir: string): Promise<Array<{ path: string; data: Buffer }>> {
  const out: Array<{ path: string; data: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else if (entry.isFile()) out.push({ path, data: await readFile(path) });
  }
  return out;
}

function processesNamed(marker: string): string {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** A lifecycle fixture copied to a temp dir, its solve.sh rewritten (a marker of its own). */
async function copiedFixtureTask(name: string, rewrite: (solveSh: string) => string): Promise<Task> {
  const dir = join(await tempDir(`fixture-${name}`), name);
  await cp(join(FIXTURES, 'lifecycle', name), dir, { recursive: true });
  const solve = join(dir, 'solution', 'solve.sh');
  await writeFile(solve, rewrite(await readFile(solve, 'utf8')));
  return loadTaskOrThrow(dir);
}

/** The task with one more skill, as `eval --skill DIR` adds it: a folder of its own, outside the task. */
async function withFlagSkill(task: Task, name: string): Promise<Task> {
  const dir = join(await tempDir('flag-skill'), name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'SKILL.md'), `---\nname: ${name}\ndescription: A skill given with --skill.\n---\n`);
  const { skills } = await resolveFlagSkills([dir], { cwd: dir });
  return {
    ...task,
    skills: withFlagSkills(
      task.skills,
      skills.map((s) => s.skill),
    ),
  };
}

/**
 * The lifecycle rules every provider must keep. Registered by each provider's test file, so the same
 * assertions run against the local temp-dir provider and the real Docker engine.
 */
export function lifecycleRules(getProvider: () => EnvironmentProvider): void {
  it('ignores a reward, tests and a reward-writing loop the agent planted before verification', async () => {
    const { result } = await runOne({ provider: getProvider(), task: await loadFixtureTask('plant-reward') });
    expect(result.status).toBe('verifier_error');
    expect(result.reward).toBeUndefined();
    expect(result.error?.message).toMatch(/wrote no reward/);
    // The tamper audit saw it all before verification removed it.
    expect(result.tamper?.tampered).toBe(true);
    expect(result.tamper?.findings).toEqual(
      expect.arrayContaining([
        { kind: 'verifier_logs', change: 'added', path: '/logs/verifier/reward.txt' },
        { kind: 'verifier_logs', change: 'added', path: '/logs/verifier/reward.json' },
        { kind: 'verifier_logs', change: 'added', path: '/app/logs/verifier/reward.txt' },
        { kind: 'tests', change: 'added', path: '/tests/test.sh' },
      ]),
    );
  });

  it('flags a no-skills trial on an environment with SKILL.md baked in as contaminated; analyze leaves it out', async () => {
    const resultsDir = await tempDir('contaminated');
    const task = await loadFixtureTask('skill-baked');
    const { result } = await runOne({ provider: getProvider(), task, arm: 'no-skills', resultsDir });
    expect(result.status).toBe('passed');
    expect(result.isolation).toMatchObject({ checked: true, contaminated: true, complete: true });
    const found = result.isolation!.findings.map((finding) => [finding.kind, finding.detail]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['skill_file', '/root/.claude/skills/leaked/SKILL.md'],
        ['skill_file', '/opt/vendor/leaked/SKILL.md'],
      ]),
    );
    const clean = await runOne({ provider: getProvider(), task, arm: 'with-skills', resultsDir });
    expect(clean.result.isolation?.contaminated).toBe(false);

    const settings = { passThreshold: 1, includeErrorsAsFailures: false, k: [1] };
    const report = await analyzeResults([resultsDir], settings);
    expect(report.contamination).toMatchObject({ included: false, count: 1, byArm: { 'no-skills': 1 } });
    expect(report.configs[0]!.tasks[0]!.arms['no-skills']).toBeUndefined();
    const included = await analyzeResults([resultsDir], { ...settings, includeContaminated: true });
    expect(included.configs[0]!.tasks[0]!.arms['no-skills']).toMatchObject({ trials: 1, passes: 1, contaminated: 0 });
  });

  it('records an agent that edits the skill under test and a tool the verifier runs', async () => {
    const task = await loadFixtureTask('edit-skill');
    const { result } = await runOne({ provider: getProvider(), task, arm: 'with-skills' });
    expect(result.status).toBe('passed');
    expect(result.isolation?.skills).toEqual([{ name: 'helper', present: true, missing_from: [], opened: false }]);
    expect(result.tamper?.tampered).toBe(true);
    expect(result.tamper?.findings).toEqual(
      expect.arrayContaining([
        { kind: 'skill', change: 'changed', path: '/app/.claude/skills/helper/SKILL.md' },
        { kind: 'path_tools', change: 'changed', path: '/usr/local/bin/checker' },
        { kind: 'path_tools', change: 'added', path: '/usr/local/bin/cmp' },
      ]),
    );
    expect(result.tamper?.findings.map((finding) => finding.path)).not.toContain('/usr/local/bin/brand-new-tool');
    expect(result.timings.phases.audit_ms).toBeTypeOf('number');
  });

  it('hides tests, task.toml and (in the no-skills arm) every SKILL.md from the agent', async () => {
    const task = await loadFixtureTask('visibility');
    const without = await runOne({ provider: getProvider(), task, arm: 'no-skills' });
    expect(without.result.status).toBe('passed');
    const seen = await readText(join(without.trialDir, 'artifacts', 'visible.txt'));
    expect(seen).toContain('tests_dir=absent');
    expect(seen).toContain('task_toml=0');
    expect(seen).toContain('test_sh=0');
    expect(seen).toContain('skill_md=0');
    expect(without.result.skills).toEqual([]);
    expect(without.result.isolation).toMatchObject({ checked: true, contaminated: false, findings: [] });
    expect(without.result.tamper).toEqual({ checked: true, tampered: false, findings: [] });

    const withSkills = await runOne({ provider: getProvider(), task, arm: 'with-skills' });
    const seenWith = await readText(join(withSkills.trialDir, 'artifacts', 'visible.txt'));
    expect(seenWith).toMatch(/skill_md=[1-9]/);
    expect(seenWith).toContain('.claude/skills/helper/SKILL.md');
    expect(seenWith).toContain('tests_dir=absent');
    expect(withSkills.result.skills.map((s) => s.name)).toEqual(['helper']);
    expect(withSkills.result.skills[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(withSkills.result.isolation?.skills).toEqual([
      { name: 'helper', present: true, missing_from: [], opened: false },
    ]);
    expect(withSkills.result.tamper?.tampered).toBe(false);
  });

  it("gives a --skill skill to the with-skills arm alongside the task's own, and never to the no-skills arm", async () => {
    const task = await withFlagSkill(await loadFixtureTask('visibility'), 'flagged');
    const without = await runOne({ provider: getProvider(), task, arm: 'no-skills' });
    expect(without.result.status).toBe('passed');
    expect(await readText(join(without.trialDir, 'artifacts', 'visible.txt'))).toContain('skill_md=0');
    expect(without.result.skills).toEqual([]);
    expect(without.result.isolation).toMatchObject({ checked: true, contaminated: false, findings: [] });

    const withSkills = await runOne({ provider: getProvider(), task, arm: 'with-skills' });
    expect(withSkills.result.status).toBe('passed');
    expect(await readText(join(withSkills.trialDir, 'artifacts', 'visible.txt'))).toContain(
      '.claude/skills/flagged/SKILL.md',
    );
    expect(withSkills.result.skills.map((s) => [s.name, s.source?.kind])).toEqual([
      ['flagged', 'path'],
      ['helper', 'task'],
    ]);
    expect(withSkills.result.isolation?.skills.map((s) => [s.name, s.present])).toEqual([
      ['flagged', true],
      ['helper', true],
    ]);
  });

  it('fails a trial whose skill cannot be injected as an infra error naming the skill and the target', async () => {
    const task = await withFlagSkill(await loadFixtureTask('visibility'), 'vanished');
    const skill = task.skills.find((s) => s.name === 'vanished')!;
    // Resolved at planning, gone by the trial (a cache cleaned in between).
    await rm(skill.dir, { recursive: true, force: true });
    const { result, trialDir } = await runOne({ provider: getProvider(), task, arm: 'with-skills' });
    expect(result.status).toBe('infra_error');
    expect(result.error).toMatchObject({ kind: 'infra', phase: 'skills', retryable: false });
    expect(result.error?.message).toMatch(
      new RegExp(`^skill vanished could not be injected into \\S+/skills/vanished from ${skill.dir} \\(.+\\)$`),
    );
    expect(result.agent_result).toBeUndefined();
    expect(await readText(join(trialDir, 'session.jsonl'))).toContain('infrastructure error in skills: skill vanished');
    // The baseline never touches it.
    expect((await runOne({ provider: getProvider(), task, arm: 'no-skills' })).result.status).toBe('passed');
  });

  it('verifies after an agent timeout and leaves no process behind', async () => {
    // Its own marker: the same rule runs on other providers at the same time, whose sleepers the host sees too.
    const marker = `skill-eval-fixture-sleeper-${Math.random().toString(36).slice(2, 10)}`;
    const task = await copiedFixtureTask('sleep-forever', (text) => text.replace('skill-eval-fixture-sleeper', marker));
    const started = Date.now();
    const { result } = await runOne({ provider: getProvider(), task });
    expect(result.status).toBe('agent_timeout');
    expect(result.reward).toBe(1);
    expect(result.verifier?.exit_code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(processesNamed(marker)).toBe('');
  });

  it('redacts a secret the agent echoed to stdout, stderr, files and logs from every persisted byte', async () => {
    const secret = `sk-fixture-${Math.random().toString(36).slice(2)}-secret`;
    const resultsDir = await tempDir('secrets');
    const { result } = await runOne({
      provider: getProvider(),
      task: await loadFixtureTask('secret-echo'),
      env: { FIXTURE_API_KEY: secret },
      secrets: [secret],
      resultsDir,
    });
    expect(result.status).toBe('passed');
    const files = await allFiles(resultsDir);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(file.data.includes(secret), file.path).toBe(false);
    const artifacts = files.find((f) => f.path.endsWith('secret.txt'));
    expect(artifacts?.data.toString()).toContain('[REDACTED]');
    const session = files.find((f) => f.path.endsWith('session.jsonl'))!.data.toString();
    expect(session).toContain('stdout: [REDACTED]');
    expect(session).toContain('stderr: [REDACTED]');
  });

  it('reads reward.json (primary key "reward") and keeps every number', async () => {
    const { result } = await runOne({ provider: getProvider(), task: await loadFixtureTask('reward-json') });
    expect(result.reward).toBe(0.5);
    expect(result.rewards).toEqual({ reward: 0.5, accuracy: 0.75 });
    expect(result.status).toBe('failed');
  });

  it('prefers reward.txt over reward.json', async () => {
    const { result } = await runOne({ provider: getProvider(), task: await loadFixtureTask('reward-precedence') });
    expect(result.reward).toBe(0.25);
    expect(result.reward_source).toBe('/logs/verifier/reward.txt');
  });

  it('accepts the relative skill-eval reward path as a fallback', async () => {
    const { result } = await runOne({ provider: getProvider(), task: await loadFixtureTask('relative-reward') });
    expect(result.status).toBe('passed');
    expect(result.reward).toBe(1);
  });

  it('turns an unparsable or empty reward into a verifier error, never 0', async () => {
    const bad = await runOne({ provider: getProvider(), task: await loadFixtureTask('bad-reward') });
    expect(bad.result.status).toBe('verifier_error');
    expect(bad.result.reward).toBeUndefined();
    expect(bad.result.error?.message).toMatch(/reward\.txt: expected a number, found "great success"/);
    const empty = await runOne({ provider: getProvider(), task: await loadFixtureTask('empty-reward') });
    expect(empty.result.status).toBe('verifier_error');
    expect(empty.result.error?.message).toMatch(/empty file/);
  });

  it('stops a hanging verifier at its timeout as a verifier error', async () => {
    const task = await loadFixtureTask('verifier-hang');
    task.config.verifier.timeoutSec = 1;
    const { result } = await runOne({ provider: getProvider(), task });
    expect(result.status).toBe('verifier_error');
    expect(result.verifier?.timed_out).toBe(true);
  });

  it('gives every trial a fresh workspace, HOME and TMPDIR', async () => {
    const task = await loadFixtureTask('isolation');
    const resultsDir = await tempDir('isolation');
    const first = await runOne({ provider: getProvider(), task, resultsDir, trialIndex: 1 });
    const second = await runOne({ provider: getProvider(), task, resultsDir, trialIndex: 2 });
    expect(first.result.status).toBe('passed');
    expect(second.result.status).toBe('passed');
  });

  it('writes a result.json that matches the schema, with phase timings and a session log', async () => {
    const { result, trialDir } = await runOne({ provider: getProvider(), task: await loadFixtureTask('reward-json') });
    const onDisk = trialResultSchema.parse(JSON.parse(await readText(join(trialDir, 'result.json'))));
    expect(onDisk.trial_id).toBe(result.trial_id);
    for (const phase of ['environment_setup_ms', 'agent_ms', 'verifier_ms', 'cleanup_ms'])
      expect(onDisk.timings.phases[phase]).toBeTypeOf('number');
    const lines = (await readText(join(trialDir, 'session.jsonl')))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; at: string });
    expect(lines[0]!.type).toBe('instruction');
    expect(lines.map((l) => l.type)).toEqual(expect.arrayContaining(['command', 'verifier', 'reward']));
    for (const line of lines) expect(Date.parse(line.at)).not.toBeNaN();
    expect(await readText(join(trialDir, 'verifier', 'test-stdout.txt'))).toBe('');
  });
}
