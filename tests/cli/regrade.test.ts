import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';
import { copiedTrivialTask, rewriteTests } from '../regrade/helpers.js';

describe('skill-eval regrade (CLI)', () => {
  it('prints the change, --json prints regrade.json, and exits 2 for a missing job and 3 for verifier errors', async () => {
    const taskDir = await copiedTrivialTask();
    const results = await tempDir('cli-regrade');
    const run = await runCli([
      'eval',
      taskDir,
      '--agent=oracle',
      '--provider=local',
      '--trials=2',
      '--job-name=j',
      `--results-dir=${results}`,
      '--quiet',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);

    await rewriteTests(taskDir, '0.5');
    const regrade = await runCli(['regrade', 'j', `--results-dir=${results}`]);
    expect(regrade.exitCode, regrade.stderr).toBe(0);
    expect(regrade.stdout).toContain('regraded 2 trials: mean reward 1.00 → 0.50; 2 passed→failed, 0 failed→passed');
    expect(regrade.stdout).toMatch(/task trivial changed since the job/);

    const json = await runCli(['regrade', 'j', '--task', 'trivial', `--results-dir=${results}`, '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schema: 'skill-eval/regrade@1',
      regraded: 2,
      mean_reward_after: 0.5,
    });

    const missing = await runCli(['regrade', 'nope', `--results-dir=${results}`]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/no job nope: .*job\.json does not exist/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    await rewriteTests(taskDir, undefined);
    const broken = await runCli(['regrade', 'j', `--results-dir=${results}`]);
    expect(broken.exitCode).toBe(3);
    expect(broken.stdout).toMatch(/verifier_error/);
  });
});
