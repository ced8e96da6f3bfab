import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';
import { makeSkillsRepo } from '../skills/git-repo.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads of our own JSON files, checked field by field
async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('skill-eval eval', () => {
  it('oracle passes superlint_demo 5/5 on the local provider and writes reports and trial directories', async () => {
    const results = await tempDir('eval-oracle');
    const run = await runCli(['eval', 'superlint', '--agent=oracle', '--provider=local', `--results-dir=${results}`]);
    expect(run.stderr).toContain('[5/5]');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/superlint_demo \| oracle \| with-skills \| 5\s+\| 5\/5\s+\| 100\.0 % \[56\.6–100\.0\]/);
    const files = await readdir(results);
    const report = files.find((f) => /^superlint_demo_.*\.json$/.test(f))!;
    const json = await readJson(join(results, report));
    expect(json).toMatchObject({
      task: 'superlint_demo',
      pass_rate: 1,
      agent: 'oracle',
      provider: 'local',
      arm: 'with-skills',
      skills_used: ['superlint'],
    });
    expect(json.trials).toHaveLength(5);
    expect(json.command_line).toContain('--agent=oracle');
    for (const trial of json.trials) {
      expect(trial.reward).toBe(1);
      const session = await readFile(join(results, trial.session_log), 'utf8');
      expect(session).toContain('"type":"instruction"');
      const result = await readJson(join(results, trial.trial_dir, 'result.json'));
      expect(result.status).toBe('passed');
    }
  });

  it('nop fails superlint_demo: the task does not reward the untouched state', async () => {
    const results = await tempDir('eval-nop');
    const run = await runCli([
      'eval',
      'superlint_demo',
      '--agent=nop',
      '--provider=local',
      '--trials=2',
      '--no-skills',
      `--results-dir=${results}`,
    ]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/superlint_demo \| nop\s+\| no-skills \| 2\s+\| 0\/2\s+\| 0\.0 %/);
  });

  it('lists the candidates for an unknown or ambiguous task name and exits 2', async () => {
    const run = await runCli(['eval', 'no_such_task', '--agent=oracle', '--provider=local']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/superlint_demo/);
  });

  it('rejects bad flags with one clear message and exit 2', async () => {
    const trials = await runCli(['eval', 'superlint', '--agent=oracle', '--provider=local', '--trials=0']);
    expect(trials.exitCode).toBe(2);
    expect(trials.stderr).toContain('--trials: expected a positive whole number, found "0"');
    const agent = await runCli(['eval', 'superlint', '--agent=hal9000', '--provider=local']);
    expect(agent.exitCode).toBe(2);
    expect(agent.stderr).toMatch(/unknown agent "hal9000"[\s\S]*known agents: oracle, nop/);
    const provider = await runCli(['eval', 'superlint', '--provider=cloud']);
    expect(provider.exitCode).toBe(2);
    expect(provider.stderr).toMatch(/--provider.*cloud/);
  });

  it('adds --skill skills from a git repository, and refuses a bad ref before any trial with exit 2', async () => {
    const repo = await makeSkillsRepo();
    const results = await tempDir('eval-skill');
    const env = { SKILL_EVAL_CACHE_DIR: await tempDir('eval-skill-cache') };
    const trivial = join(REPO_ROOT, 'tests', 'fixtures', 'jobs', 'trivial');
    const base = ['eval', trivial, '--agent=oracle', '--provider=local', '--trials=1', `--results-dir=${results}`];
    const bad = await runCli([...base, '--skill', `${repo.url}#v9:skills`], { env });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`--skill ${repo.url}#v9:skills: no branch or tag "v9" in ${repo.url}`);
    expect(bad.stderr).not.toContain('trials planned');
    expect(bad.stderr).not.toMatch(/at .+\.ts:\d+/);
    expect(await readdir(results)).toEqual([]);

    const good = await runCli(
      [...base, '--skill', `${repo.url}#v1:skills/pdf`, '--skill', `${repo.url}#dev:skills/lint`],
      {
        env,
      },
    );
    expect(good.exitCode).toBe(0);
    const [job] = await readdir(join(results, 'jobs'));
    const lock = await readJson(join(results, 'jobs', job!, 'skills.lock.json'));
    expect(lock.skills.map((s: { name: string; source: { commit: string } }) => [s.name, s.source.commit])).toEqual([
      ['lint', repo.commits.dev],
      ['pdf', repo.commits.v1],
    ]);
  });

  it("fails fast, before any trial, when the agent's key is missing, naming the variable", async () => {
    const results = await tempDir('eval-nokey');
    const run = await runCli(['eval', 'superlint', '--agent=claude', '--provider=local', `--results-dir=${results}`], {
      env: { ANTHROPIC_API_KEY: undefined },
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('the claude agent needs ANTHROPIC_API_KEY, which is not set');
    expect(run.stderr).toContain('--agent=oracle');
    expect(run.stderr).not.toContain('trials planned');
  });

  it('refuses an API agent with --no-gateway on a task without network in Docker, unless --network says otherwise', async () => {
    // With the gateway (the default) the agent reaches its model through the gateway's socket: no refusal.
    const run = await runCli(
      [
        'eval',
        'superlint',
        '--agent=claude',
        '--provider=docker',
        '--no-gateway',
        `--results-dir=${await tempDir('eval-offline')}`,
      ],
      { env: { ANTHROPIC_API_KEY: 'sk-ant-offline-check' } },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(
      /superlint_demo has no network \(allow_internet = false\), so claude cannot reach its model API inside the container without the model gateway/,
    );
    expect(run.stderr).toContain('--network=bridge');
  });

  it('runs the healthy tasks when one is broken, reports the broken one with file and key, and exits 2', async () => {
    const tasksDir = await tempDir('eval-mixed');
    await cp(join(REPO_ROOT, 'tasks', 'superlint_demo'), join(tasksDir, 'superlint_demo'), { recursive: true });
    await mkdir(join(tasksDir, 'broken', 'tests'), { recursive: true });
    await writeFile(join(tasksDir, 'broken', 'task.toml'), 'schema_version = "1.1"\n[agent]\ntimeout_sec = "soon"\n');
    await writeFile(join(tasksDir, 'broken', 'instruction.md'), 'x');
    await writeFile(join(tasksDir, 'broken', 'tests', 'test.sh'), 'exit 0');
    const results = await tempDir('eval-mixed-results');
    const run = await runCli([
      'eval',
      tasksDir,
      '--agent=oracle',
      '--provider=local',
      '--trials=1',
      `--results-dir=${results}`,
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/broken[/\\]task\.toml: agent\.timeout_sec/);
    expect(run.stdout).toMatch(/superlint_demo \| oracle \| with-skills \| 1\s+\| 1\/1/);
  });

  it('resumes a named job without re-running finished trials and refuses a changed plan', async () => {
    const results = await tempDir('eval-resume');
    const args = [
      'eval',
      'superlint',
      '--agent=oracle',
      '--provider=local',
      '--trials=2',
      `--results-dir=${results}`,
      '--job-name=nightly',
    ];
    const first = await runCli(args);
    expect(first.exitCode).toBe(0);
    const trialResult = join(results, 'jobs', 'nightly', 'superlint_demo__oracle__with-skills__1', 'result.json');
    const before = await readJson(trialResult);
    const again = await runCli(args);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('resuming job nightly');
    expect(again.stderr).toContain('2 already done');
    expect((await readJson(trialResult)).trial_id).toBe(before.trial_id);
    const changed = await runCli([...args.filter((a) => a !== '--trials=2'), '--trials=3']);
    expect(changed.exitCode).toBe(2);
    expect(changed.stderr).toContain('trials: 2 → 3');
  });

  it('finishes a job killed after its last trial but before its reports: the same command writes them and runs nothing', async () => {
    const results = await tempDir('eval-reports');
    const args = [
      'eval',
      'superlint',
      '--agent=oracle',
      '--provider=local',
      '--trials=1',
      '--no-skills',
      `--results-dir=${results}`,
    ];
    const first = await runCli(args);
    expect(first.exitCode).toBe(0);
    const [jobId] = await readdir(join(results, 'jobs'));
    const summaryPath = join(results, 'jobs', jobId!, 'summary.json');
    const { reports, ...withoutReports } = await readJson(summaryPath);
    expect(reports).toEqual([expect.stringMatching(/^\.\.\/\.\.\/superlint_demo_.*\.json$/)]);
    // As a kill -9 between the last trial and the reports leaves it.
    const reportFile = join(results, 'jobs', jobId!, reports[0]);
    await rm(reportFile);
    await writeFile(summaryPath, JSON.stringify(withoutReports));
    const trialResult = join(results, 'jobs', jobId!, 'superlint_demo__oracle__no-skills__1', 'result.json');
    const before = await readJson(trialResult);

    const again = await runCli(args);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain(`resuming unfinished job ${jobId}`);
    expect((await readJson(trialResult)).trial_id).toBe(before.trial_id);
    expect((await readJson(reportFile)).task).toBe('superlint_demo');
    expect((await readJson(summaryPath)).reports).toEqual(reports);
    // Now complete: the same command starts a new job.
    const third = await runCli(args);
    expect(third.stderr).not.toContain('resuming');
    expect(await readdir(join(results, 'jobs'))).toHaveLength(2);
  });
});
