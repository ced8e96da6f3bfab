import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIMS_DIR } from '../../src/jobs/claims.js';
import { superlintSkillMarker } from '../agents/harness.js';
import { claudeDialect, startAnthropicServer } from '../fixtures/model-servers/anthropic.js';
import type { ModelServer } from '../fixtures/model-servers/server.js';
import { superlintScript } from '../fixtures/model-servers/superlint-script.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

/** Budgets as a user meets them: the real CLI, Claude Code through the gateway, a scripted Anthropic upstream. */
const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function upstream(): Promise<{ server: ModelServer; env: Record<string, string> }> {
  const server = await startAnthropicServer(
    superlintScript(claudeDialect, { skillMarker: await superlintSkillMarker() }),
  );
  servers.push(server);
  return { server, env: { ANTHROPIC_API_KEY: 'sk-ant-budget-test-0123456789', ANTHROPIC_BASE_URL: server.url } };
}

const evalArgs = (results: string, job: string, ...extra: string[]): string[] => [
  'eval',
  'superlint',
  '--agent=claude',
  '--provider=local',
  '--no-skills',
  '--concurrency=1',
  '--max-retries=0',
  `--job-name=${job}`,
  `--results-dir=${results}`,
  ...extra,
];

async function statuses(jobDir: string): Promise<string[]> {
  const dirs = (await readdir(jobDir, { withFileTypes: true })).filter((d) => d.isDirectory() && d.name !== CLAIMS_DIR);
  const results = await Promise.all(
    dirs.map(
      async (d) => JSON.parse(await readFile(join(jobDir, d.name, 'result.json'), 'utf8')) as { status: string },
    ),
  );
  return results.map((r) => r.status).sort();
}

describe('eval budgets (real CLI, Claude Code through the gateway)', { timeout: 300_000 }, () => {
  it('--max-cost-per-trial 0.0001 stops the agent at its first call: budget_exceeded, verified, exit 0', async () => {
    const { server, env } = await upstream();
    const results = await tempDir('budget-trial');
    const run = await runCli(evalArgs(results, 'per-trial', '--trials=1', '--max-cost-per-trial=0.0001'), { env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(server.requests).toHaveLength(1);
    const jobDir = join(results, 'jobs', 'per-trial');
    expect(await statuses(jobDir)).toEqual(['budget_exceeded']);
    expect(run.stdout).toMatch(/trials: 1\/1 \(budget_exceeded 1\)/);
    expect(run.stderr).toMatch(/--max-cost-per-trial 0\.0001; the agent was stopped, verified anyway/);
  });

  it('--max-cost stops the job: no new trial starts, it says how to resume and exits 5; the resume finishes it', async () => {
    const { env } = await upstream();
    const results = await tempDir('budget-job');
    const jobDir = join(results, 'jobs', 'capped');
    const run = await runCli(evalArgs(results, 'capped', '--trials=3', '--max-cost=0.005'), { env });
    expect(run.exitCode, run.stderr).toBe(5);
    const said =
      /budget: the job spent \$0\.\d+ of its --max-cost \$0\.005; (\d) trials? (?:was|were) not started\. Resume with a higher budget:\n {2}skill-eval eval --resume capped .*--max-cost <usd>/.exec(
        run.stderr,
      );
    expect(said, run.stderr).not.toBeNull();
    const notStarted = Number(said![1]);
    expect(notStarted).toBeGreaterThanOrEqual(1);
    const before = await statuses(jobDir);
    expect(before).toHaveLength(3 - notStarted);
    expect(before).toContain('budget_exceeded');

    const resumed = await runCli(evalArgs(results, 'capped', '--trials=3', '--resume=capped', '--max-cost=5'), { env });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const after = await statuses(jobDir);
    expect(after).toHaveLength(3);
    // The trials the budget stopped stay as they ended; the ones it never started ran in full.
    expect(after.filter((s) => s === 'failed')).toHaveLength(before.filter((s) => s === 'failed').length + notStarted);
  });
});
