import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { CLAIMS_DIR } from '../../src/jobs/claims.js';
import type { EvalJobOptions } from '../../src/jobs/eval-options.js';
import type { EvalNotice } from '../../src/jobs/eval-tasks.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { readSkillsLock, SKILLS_LOCK_FILE } from '../../src/jobs/skills-lock.js';
import { type TrialResult, trialResultSchema } from '../../src/results/schema.js';
import { resolveFlagSkills } from '../../src/skills/sources.js';
import { tempDir } from '../helpers/trials.js';
import { git, makeSkillsRepo, type SkillsRepo, skillMd } from '../skills/git-repo.js';
import { trivialJobOptions } from './helpers.js';

let repo: SkillsRepo;

beforeAll(async () => {
  repo = await makeSkillsRepo();
});

/** The planning context of a test: its own skill cache, notices collected. */
async function context(notices: EvalNotice[] = []) {
  const cache = await tempDir('skills-cache');
  return { hostEnv: { ...process.env, SKILL_EVAL_CACHE_DIR: cache }, onNotice: (n: EvalNotice) => notices.push(n) };
}

async function results(jobDir: string): Promise<TrialResult[]> {
  const out: TrialResult[] = [];
  for (const entry of await readdir(jobDir, { withFileTypes: true }))
    if (entry.isDirectory() && entry.name !== CLAIMS_DIR)
      out.push(trialResultSchema.parse(JSON.parse(await readFile(join(jobDir, entry.name, 'result.json'), 'utf8'))));
  return out.sort((a, b) => (a.arm < b.arm ? -1 : 1));
}

function options(resultsDir: string, overrides: Partial<EvalJobOptions>): EvalJobOptions {
  return trivialJobOptions(resultsDir, { skills: true, audit: true, ...overrides });
}

describe('eval --skill', () => {
  it('runs the oracle with a skill from a local git repo at a tag: the lock and every result record commit and sha256', async () => {
    const resultsDir = await tempDir('skills-eval');
    const notices: EvalNotice[] = [];
    const ctx = await context(notices);
    const spec = `${repo.url}#v1:skills/pdf`;
    const plan = await planEval(options(resultsDir, { compare: true, skill: [spec] }), resultsDir, ctx);
    const outcome = await runEvalJob(plan);
    expect(outcome.summary.cells.map((c) => [c.arm, c.passed])).toEqual([
      ['with-skills', 1],
      ['no-skills', 1],
    ]);
    const expected = (await resolveFlagSkills([join(repo.skillsAtV1, 'pdf')], { cwd: resultsDir })).skills[0]!.skill;
    const source = {
      kind: 'git',
      url: repo.url,
      ref: 'v1',
      subdir: 'skills/pdf',
      commit: repo.commits.v1,
      path: 'skills/pdf',
    };

    const lock = await readSkillsLock(plan.jobDir);
    expect(lock).toEqual({
      schema: 'skill-eval/skills-lock@1',
      job_id: plan.config.job_id,
      created_at: plan.config.created_at,
      specs: [spec],
      skills: [
        { name: 'pdf', spec, source, sha256: expected.sha256, files: expected.fileCount, bytes: expected.bytes },
      ],
    });
    const jobJson = JSON.parse(await readFile(join(plan.jobDir, 'job.json'), 'utf8'));
    expect(jobJson.skill_specs).toEqual([spec]);
    expect(jobJson.skills).toEqual([{ name: 'pdf', sha256: expected.sha256, commit: repo.commits.v1 }]);

    const [noSkills, withSkills] = await results(plan.jobDir);
    expect(withSkills?.arm).toBe('with-skills');
    expect(withSkills?.skills.map((s) => [s.name, s.sha256, s.source])).toEqual([
      ['fixture-skill', expect.stringMatching(/^[0-9a-f]{64}$/), { kind: 'task', path: 'skills/fixture-skill' }],
      ['pdf', expected.sha256, source],
    ]);
    expect(withSkills?.isolation?.skills.map((s) => [s.name, s.present])).toEqual([
      ['fixture-skill', true],
      ['pdf', true],
    ]);
    expect(noSkills?.arm).toBe('no-skills');
    expect(noSkills?.skills).toEqual([]);
    expect(noSkills?.isolation).toMatchObject({ checked: true, contaminated: false, findings: [] });
    expect(notices).toContainEqual({
      level: 'note',
      message: `--skill ${spec}: pdf at commit ${repo.commits.v1.slice(0, 12)} (fetched)`,
    });

    // Another job on the same machine: the commit comes from the cache, nothing is cloned.
    const second: EvalNotice[] = [];
    const again = await planEval(options(await tempDir('skills-eval-2'), { skill: [spec] }), resultsDir, {
      ...ctx,
      onNotice: (n) => second.push(n),
    });
    expect(second).toContainEqual({
      level: 'note',
      message: `--skill ${spec}: pdf at commit ${repo.commits.v1.slice(0, 12)} (cached)`,
    });
    expect(again.skillsLock?.skills[0]?.sha256).toBe(expected.sha256);
  });

  it("replaces a task's skill of the same name", async () => {
    const dir = join(await tempDir('skills-same-name'), 'fixture-skill');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'SKILL.md'), skillMd('fixture-skill', 'The --skill version.'));
    const resultsDir = await tempDir('skills-replace');
    const notices: EvalNotice[] = [];
    const plan = await planEval(options(resultsDir, { skill: [dir] }), resultsDir, await context(notices));
    expect(plan.tasks[0]?.skills.map((s) => [s.name, s.description, s.source])).toEqual([
      ['fixture-skill', 'The --skill version.', { kind: 'path', path: dir }],
    ]);
    expect(notices).toContainEqual({
      level: 'note',
      message: "trivial: --skill fixture-skill replaces the task's own skill fixture-skill",
    });
  });

  it('refuses a bad ref before any trial: one UsageError (exit code 2), no job directory', async () => {
    const resultsDir = await tempDir('skills-bad-ref');
    const error = await planEval(options(resultsDir, { skill: [`${repo.url}#v9`] }), resultsDir, await context()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toMatch(
      /^--skill file:\/\/.+#v9: no branch or tag "v9" in .+; found dev, main/,
    );
    expect(existsSync(join(resultsDir, 'jobs'))).toBe(false);
    // --skill with only the baseline arm is a contradiction, not a silent no-op.
    await expect(
      planEval(options(resultsDir, { skills: false, skill: [repo.skillsAtV1] }), resultsDir, await context()),
    ).rejects.toThrow(/--skill .+ and --no-skills contradict each other/);
  });

  it('resumes a job at the commits it locked, and refuses one whose local skill changed', async () => {
    const own = await makeSkillsRepo();
    const resultsDir = await tempDir('skills-resume');
    const ctx = await context();
    const spec = `${own.url}#main:skills`;
    const first = await planEval(options(resultsDir, { skill: [spec], jobName: 'pinned', trials: 2 }), resultsDir, ctx);
    await runEvalJob(first);
    // main moves on after the job started.
    await writeFile(join(own.dir, 'skills', 'csv', 'SKILL.md'), skillMd('csv', 'Changed after the lock.'));
    git(own.dir, 'commit', '--quiet', '-am', 'moved');

    const notices: EvalNotice[] = [];
    const resumed = await planEval(options(resultsDir, { resume: 'pinned' }), resultsDir, {
      ...ctx,
      onNotice: (n) => notices.push(n),
    });
    expect(resumed.resumed).toBe(true);
    expect(resumed.options.skill).toEqual([spec]);
    expect(resumed.skillsLock?.skills.map((s) => s.source)).toEqual([
      expect.objectContaining({ commit: own.commits.main }),
      expect.objectContaining({ commit: own.commits.main }),
    ]);
    expect(notices.map((n) => n.message)).toContain(
      `--skill ${spec}: csv, pdf at commit ${own.commits.main.slice(0, 12)} (the commit the job locked)`,
    );
    // Unnamed, the same flags resolve main afresh: another plan, so a new job rather than the old one.
    const fresh = await planEval(options(resultsDir, { skill: [spec], trials: 2 }), resultsDir, ctx);
    expect(fresh.resumed).toBe(false);

    const local = join(await tempDir('skills-local'), 'tool');
    await mkdir(local, { recursive: true });
    await writeFile(join(local, 'SKILL.md'), skillMd('tool', 'A tool.'));
    await runEvalJob(await planEval(options(resultsDir, { skill: [local], jobName: 'local' }), resultsDir, ctx));
    await writeFile(join(local, 'SKILL.md'), skillMd('tool', 'A changed tool.'));
    await expect(planEval(options(resultsDir, { resume: 'local' }), resultsDir, ctx)).rejects.toThrow(
      /job local was planned differently; refusing to mix results:\n {2}--skill skill tool changed \(sha256 [0-9a-f]{12} → [0-9a-f]{12}\)/,
    );
    expect(existsSync(join(resultsDir, 'jobs', 'local', SKILLS_LOCK_FILE))).toBe(true);
  });
});
