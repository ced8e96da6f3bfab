import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIMS_DIR } from '../../src/jobs/claims.js';
import type { TrialResult } from '../../src/results/schema.js';
import { superlintSkillMarker } from '../agents/harness.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function jobResults(resultsDir: string): Promise<Array<TrialResult & { dir: string }>> {
  const jobsDir = join(resultsDir, 'jobs');
  const [job] = await readdir(jobsDir);
  const dirs = (await readdir(join(jobsDir, job!), { withFileTypes: true })).filter(
    (d) => d.isDirectory() && d.name !== CLAIMS_DIR,
  );
  return Promise.all(
    dirs.map(async (d) => {
      const dir = join(jobsDir, job!, d.name);
      return { ...(JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as TrialResult), dir };
    }),
  );
}

describe('eval --arms with the real Claude Code CLI against a scripted model server (local provider)', () => {
  it('runs four arms; analyze shows each against no-skills', async () => {
    // The scripted model follows the superlint procedure whenever the skill's words are in what it is shown (as
    // a listed skill, or appended to the prompt); it has no skill tool to call, so no arm can fail on one.
    const dialect = { ...claudeDialect, skillTool: undefined };
    const server = await startAnthropicServer(superlintScript(dialect, { skillMarker: await superlintSkillMarker() }));
    servers.push(server);
    const env = { ANTHROPIC_API_KEY: 'sk-ant-arms-test-0123456789', ANTHROPIC_BASE_URL: server.url };
    const results = await tempDir('eval-arms-claude');
    const run = await runCli(
      [
        'eval',
        'superlint',
        '--agent=claude',
        '--provider=local',
        '--arms=no-skills,with-skills,skill-as-prompt,self-generated',
        '--trials=1',
        '--max-retries=0',
        `--results-dir=${results}`,
      ],
      { env, timeoutMs: 500_000 },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const trials = await jobResults(results);
    const status = Object.fromEntries(trials.map((t) => [t.arm, t.status]));
    expect(status).toEqual({
      'no-skills': 'failed',
      'with-skills': 'passed',
      'skill-as-prompt': 'passed',
      // The scripted model writes no skill when asked to: the solving phase has none, like the baseline.
      'self-generated': 'failed',
    });
    const prompt = trials.find((t) => t.arm === 'skill-as-prompt')!;
    expect(prompt.skills).toEqual([]);
    expect(prompt.isolation).toMatchObject({ checked: true, contaminated: false });
    const generated = trials.find((t) => t.arm === 'self-generated')!;
    expect(generated.arm_setup?.self_generated).toMatchObject({
      error: expect.stringMatching(/^the agent wrote no skill/),
      session_log: 'self-generated/session.jsonl',
      usage: { inputTokens: expect.any(Number) },
    });
    const writing = await readFile(join(generated.dir, 'self-generated', 'session.jsonl'), 'utf8');
    expect(writing).toContain('First write a skill');
    // The key reached the agent but no file of the run.
    expect(JSON.stringify(trials)).not.toContain(env.ANTHROPIC_API_KEY);

    const analyzed = await runCli(['analyze', results, '--json'], { env: {}, timeoutMs: 60_000 });
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    const set = JSON.parse(analyzed.stdout);
    expect(set.schema).toBe('skill-eval/analysis-set@1');
    const deltas = Object.fromEntries(
      set.comparisons.map(
        (r: { comparison: { treatment: string }; configs: Array<{ summary: { paired: { deltaPp: number } } }> }) => [
          r.comparison.treatment,
          r.configs[0]!.summary.paired.deltaPp,
        ],
      ),
    );
    expect(deltas).toEqual({ 'with-skills': 100, 'self-generated': 0, 'skill-as-prompt': 100 });
    const table = await runCli(['analyze', results, '--no-color'], { env: {}, timeoutMs: 60_000 });
    expect(table.stdout).toContain('━━ skill-as-prompt vs no-skills');
    expect(table.stdout).toContain('━━ self-generated vs no-skills');
  }, 600_000);
});
