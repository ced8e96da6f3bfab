import { cp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIMS_DIR } from '../../src/jobs/claims.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import type { ConversationView, ModelServer, Reply } from '../fixtures/model-servers/server.js';
import { isMainRequest } from '../fixtures/model-servers/superlint-script.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';

/** A copy of skillgrade's examples/superlint as the fixture models it: eval.yaml, SKILL.md, fixtures, the tool. */
const EXAMPLE = join(REPO_ROOT, 'tests/fixtures/evalyaml/superlint');
const KEY = 'sk-ant-skill-first-0123456789';
/** Part of the superlint skill's description (not of the instruction): in a request only when Claude Code listed the skill. */
const SKILL_MARKER = 'Use when asked to lint or fix app.js';
const FIXED = `sed -i -e "s/\\"/'/g" -e 's/\\bvar\\b/const/g' app.js`;

/**
 * The scripted model: the judge's requests (they carry the rubric) get a score — high when the transcript shows
 * superlint's "verified" output; Claude Code's get the with-skill workflow (Skill tool, check, fix, verify) or, without the
 * skill, a hand fix with sed (the code is fixed, the verification file never written).
 */
function script(view: ConversationView): Reply {
  if (view.text.includes('Workflow Compliance')) {
    const verified = view.text.includes('superlint: verified');
    const answer = verified ? { score: 1, reasoning: 'check, fix, verify' } : { score: 0.2, reasoning: 'hand edits' };
    return { kind: 'text', text: JSON.stringify(answer) };
  }
  if (!isMainRequest(claudeDialect, view)) return { kind: 'text', text: 'Superlint' };
  const ran = (needle: string): boolean => view.calls.some((c) => String(c.args.command ?? '').includes(needle));
  const shell = (command: string): Reply => ({ kind: 'tool', name: 'Bash', args: claudeDialect.shellArgs(command) });
  if (view.text.includes(SKILL_MARKER) && view.tools.includes('Skill')) {
    if (!view.calls.some((c) => c.name === 'Skill'))
      return { kind: 'tool', name: 'Skill', args: { skill: 'superlint' } };
    if (!ran('superlint check')) return shell('superlint check');
    if (!ran('superlint fix')) return shell('superlint fix --target app.js');
    if (!ran('superlint verify')) return shell('superlint verify');
    return { kind: 'text', text: 'Checked, fixed and verified with superlint.' };
  }
  if (!ran('sed -i')) return shell(FIXED);
  return { kind: 'text', text: 'I fixed the quotes and var by hand.' };
}

interface GraderLine {
  name: string;
  type: string;
  weight: number;
  score?: number;
}
interface TrialFile {
  arm: string;
  status: string;
  reward?: number;
  graders?: GraderLine[];
  isolation?: { contaminated: boolean };
}

const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('skill-first: skillgrade superlint example, in its folder', () => {
  it('`eval . --agent=claude --trials=3` runs both arms, grades each trial by both graders, analyze shows the gain', async () => {
    const server = await startAnthropicServer(script);
    servers.push(server);
    const skillDir = join(await tempDir('skill-first'), 'superlint');
    await cp(EXAMPLE, skillDir, { recursive: true });
    const results = join(skillDir, 'results');
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url };
    // Docker cannot pull the example's node:20-slim here: the local provider runs it (docs/eval-yaml.md).
    const run = await runCli(
      ['eval', '.', '--agent=claude', '--trials=3', '--provider=local', '--max-retries=0', '--results-dir=results'],
      { cwd: skillDir, env, timeoutMs: 400_000 },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain('skill-first run');
    expect(run.stdout).toMatch(/fix-linting-errors \| claude \(claude-sonnet-4-5\)\s+\| with-skills \| 3\s+\| 3\/3/);
    expect(run.stdout).toMatch(/fix-linting-errors \| claude \(claude-sonnet-4-5\)\s+\| no-skills\s+\| 3\s+\| 0\/3/);

    const jobsDir = join(results, 'jobs');
    const [job] = await readdir(jobsDir);
    const trialDirs = (await readdir(join(jobsDir, job!), { withFileTypes: true })).filter(
      (d) => d.isDirectory() && d.name !== CLAIMS_DIR,
    );
    const trials = await Promise.all(
      trialDirs.map(
        async (d) => JSON.parse(await readFile(join(jobsDir, job!, d.name, 'result.json'), 'utf8')) as TrialFile,
      ),
    );
    expect(trials).toHaveLength(6);
    for (const trial of trials) {
      const graders = trial.graders?.map(({ type, weight }) => [type, weight]);
      expect(graders).toEqual([
        ['deterministic', 0.7],
        ['llm_rubric', 0.3],
      ]);
      expect(trial.isolation?.contaminated).toBe(false);
    }
    const withSkills = trials.filter((t) => t.arm === 'with-skills');
    const without = trials.filter((t) => t.arm === 'no-skills');
    expect(withSkills.map((t) => t.reward)).toEqual([1, 1, 1]);
    // Code fixed by hand (0.5 of the deterministic checks), judged 0.2: 0.7·0.5 + 0.3·0.2.
    for (const trial of without) expect(trial.reward).toBeCloseTo(0.41, 5);
    expect(JSON.stringify(trials)).not.toContain(KEY);

    const analyze = await runCli(['analyze', join(jobsDir, job!)], { cwd: skillDir });
    expect(analyze.exitCode, analyze.stderr).toBe(0);
    // Δ +100 pp, normalized gain 1.00, each arm's pass rate with its interval.
    expect(analyze.stdout).toMatch(/\+100\.0 pp/);
    expect(analyze.stdout).toMatch(/1\.00/);
    expect(analyze.stdout).toMatch(/0\.0% \[0–\d+(\.\d)?\]/);
  }, 420_000);
});
