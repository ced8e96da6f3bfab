import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/trials.js';

describe('skill-eval test-bootstrap', () => {
  it('checks oracle passes and nop fails superlint_demo without any key', async () => {
    const run = await runCli(['test-bootstrap', '--providers=local', `--results-dir=${await tempDir('bootstrap')}`], {
      env: { GEMINI_API_KEY: undefined },
    });
    expect(run.stdout).toMatch(/^ok\s+local\s+oracle\s+must pass/m);
    expect(run.stdout).toMatch(/^ok\s+local\s+nop\s+must fail/m);
    expect(run.stdout).toContain('infrastructure check passed');
    expect(run.exitCode).toBe(0);
  });

  it('fails with exit 3 and says why when a provider cannot run', async () => {
    const run = await runCli([
      'test-bootstrap',
      '--providers=local',
      '--task=no_such_task',
      `--results-dir=${await tempDir('bootstrap-bad')}`,
    ]);
    expect(run.stdout).toMatch(/^FAIL\s+local\s+oracle\s+must pass\s+.*no_such_task/m);
    expect(run.exitCode).toBe(3);
  });
});
