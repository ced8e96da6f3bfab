import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeResults } from '../../src/analytics/analyze.js';
import { UsageError } from '../../src/errors.js';
import { regradeJob } from '../../src/regrade/regrade.js';
import { formatRegrade } from '../../src/regrade/report.js';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { tempDir } from '../helpers/trials.js';
import { copiedTrivialTask, readResult, rewriteTests, runJob, sessionRecords } from './helpers.js';

const TRIAL = 'trivial__oracle__no-skills';
const analyzeOptions = { passThreshold: 1, includeErrorsAsFailures: false, includeContaminated: false, k: [1] };

async function trialDirs(jobDir: string): Promise<string[]> {
  const entries = await readdir(jobDir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && e.name.startsWith(TRIAL)).map((e) => join(jobDir, e.name));
}

describe('skill-eval regrade (local provider, oracle)', () => {
  it('verifies the archived workdirs again with the changed test.sh, runs no agent, and analyze reads the regrade', async () => {
    const taskDir = await copiedTrivialTask();
    const results = await tempDir('regrade-results');
    const jobDir = await runJob(taskDir, results, { trials: 2 });
    const [first] = await trialDirs(jobDir);
    const original = await readResult(first!);
    expect(original.status).toBe('passed');
    const archive = await readFile(join(first!, 'workspace.tar.gz'));
    expect(original.workspace).toMatchObject({ archive: 'workspace.tar.gz', bytes: archive.length });
    expect(original.workspace?.sha256).toBe(createHash('sha256').update(archive).digest('hex'));
    expect(original.verifier_digest).toMatch(/^[0-9a-f]{64}$/);

    await rewriteTests(taskDir, '0.25');
    const { report, exitCode } = await regradeJob({ job: 'job', resultsDir: results, concurrency: 2 }, results);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ regraded: 2, mean_reward_before: 1, mean_reward_after: 0.25, passed_to_failed: 2 });
    expect(formatRegrade(report)).toContain(
      'regraded 2 trials: mean reward 1.00 → 0.25; 2 passed→failed, 0 failed→passed',
    );

    const regraded = join(report.regrade_dir, `${TRIAL}__1`);
    const result = await readResult(regraded);
    expect(result).toMatchObject({ status: 'failed', reward: 0.25, trial_id: original.trial_id, agent: 'oracle' });
    expect(result.regrade?.source_status).toBe('passed');
    expect(result.regrade?.verifier_digest_before).toBe(original.verifier_digest);
    expect(result.regrade?.verifier_digest_after).not.toBe(original.verifier_digest);
    expect(result.regrade?.task_checksum_after).not.toBe(result.regrade?.task_checksum_before);
    // No agent: no agent phase, no command the oracle would have run (solve.sh), only the verifier.
    const records = await sessionRecords(regraded);
    expect(records.filter((r) => r.type === 'phase' && r.phase === 'agent')).toEqual([]);
    expect(records.filter((r) => r.type === 'command' || r.type === 'agent_result')).toEqual([]);
    expect(records.filter((r) => r.type === 'verifier')).toHaveLength(1);
    expect(await readFile(join(regraded, 'verifier', 'reward.txt'), 'utf8')).toBe('0.25\n');
    // The stored trial is untouched.
    expect((await readResult(first!)).reward).toBe(1);

    // analyze: the regrade on its own, and the job without its regrades (no duplicates).
    const regradeReport = await analyzeResults([report.regrade_dir], analyzeOptions);
    expect(regradeReport.inputs).toMatchObject({ trials: 2, duplicateTrials: 0 });
    const jobReport = await analyzeResults([results], analyzeOptions);
    expect(jobReport.inputs).toMatchObject({ trials: 2, duplicateTrials: 0 });
    expect(JSON.parse(await readFile(join(report.regrade_dir, 'regrade.json'), 'utf8'))).toMatchObject({
      schema: 'skill-eval/regrade@1',
      regraded: 2,
    });
  });

  it('skips trials without an archive (older results, over the cap, changed, infra errors), each with its reason', async () => {
    const taskDir = await copiedTrivialTask();
    const results = await tempDir('regrade-skips');
    const jobDir = await runJob(taskDir, results, { trials: 4 });
    const [old, changed, infra, kept] = await trialDirs(jobDir);
    // A result written before workspace archives existed.
    const oldResult = await readResult(old!);
    delete oldResult.workspace;
    await writeFile(join(old!, 'result.json'), JSON.stringify(oldResult));
    await rm(join(old!, 'workspace.tar.gz'));
    await writeFile(join(changed!, 'workspace.tar.gz'), 'not the archive');
    await writeFile(
      join(infra!, 'result.json'),
      JSON.stringify({ ...(await readResult(infra!)), status: 'infra_error' }),
    );

    const { report } = await regradeJob({ job: jobDir, resultsDir: results, concurrency: 1 }, '/');
    expect(report.regraded).toBe(1);
    expect(report.trials.map((t) => t.name)).toEqual([kept!.split('/').pop()]);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.name, s.reason]));
    expect(reasons[old!.split('/').pop()!]).toMatch(/no workspace archive: the trial was run by a skill-eval without/);
    expect(reasons[changed!.split('/').pop()!]).toMatch(/workspace.tar.gz changed since the trial/);
    expect(reasons[infra!.split('/').pop()!]).toMatch(/infrastructure error/);
    expect(formatRegrade(report)).toContain('skipped 3 trials:');
  });

  it('keeps no archive over the cap and says so; regrade reports that trial as not regradable', async () => {
    const taskDir = await copiedTrivialTask();
    // An incompressible file bigger than the cap in the workdir.
    await writeFile(
      join(taskDir, 'solution', 'solve.sh'),
      '#!/usr/bin/env bash\necho solved > solved.txt\nhead -c 200000 /dev/urandom > noise.bin\n',
    );
    const results = await tempDir('regrade-cap');
    const jobDir = await runJob(taskDir, results, { workspaceArchiveMaxMb: 0.1 });
    const [trial] = await trialDirs(jobDir);
    const result = await readResult(trial!);
    expect(result.status).toBe('passed');
    expect(existsSync(join(trial!, 'workspace.tar.gz'))).toBe(false);
    expect(result.workspace).toEqual({
      max_bytes: 104858,
      note: expect.stringMatching(/^not archived: the workspace archive would exceed the cap of 104858 bytes/),
    });
    const { report } = await regradeJob({ job: 'job', resultsDir: results, concurrency: 1 }, results);
    expect(report.regraded).toBe(0);
    expect(report.skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('would exceed the cap') }),
    ]);
  });

  it('exits 3 when the current tests give no reward, and refuses a job that does not exist', async () => {
    const taskDir = await copiedTrivialTask();
    const results = await tempDir('regrade-errors');
    await runJob(taskDir, results);
    await rewriteTests(taskDir, undefined);
    const { report, exitCode } = await regradeJob({ job: 'job', resultsDir: results, concurrency: 1 }, results);
    expect(exitCode).toBe(3);
    expect(report).toMatchObject({ regraded: 1, verifier_errors: 1, mean_reward_after: undefined });
    expect(formatRegrade(report)).toMatch(/verifier_error: .*reward/);

    await expect(regradeJob({ job: 'nope', resultsDir: results, concurrency: 1 }, results)).rejects.toThrow(UsageError);
    await expect(regradeJob({ job: 'nope', resultsDir: results, concurrency: 1 }, results)).rejects.toThrow(
      /no job nope: .*jobs\/nope\/job.json does not exist/,
    );
    await expect(
      regradeJob({ job: 'job', tasks: ['other'], resultsDir: results, concurrency: 1 }, results),
    ).rejects.toThrow(/--task other: job job has no such task/);
  });

  it('keeps no secret in the workspace archive', async () => {
    const taskDir = await copiedTrivialTask();
    const secret = 'sk-regrade-secret-4242';
    await writeFile(
      join(taskDir, 'solution', 'solve.sh'),
      '#!/usr/bin/env bash\necho solved > solved.txt\nmkdir -p "deep/$FIXTURE_API_KEY"\necho "key=$FIXTURE_API_KEY" > deep/key.txt\n',
    );
    const results = await tempDir('regrade-secret');
    const jobDir = await runJob(taskDir, results, { env: [`FIXTURE_API_KEY=${secret}`] });
    const [trial] = await trialDirs(jobDir);
    const result = await readResult(trial!);
    expect(result.workspace?.archive).toBe('workspace.tar.gz');
    expect(result.workspace?.sha256).toBe(
      createHash('sha256')
        .update(await readFile(join(trial!, 'workspace.tar.gz')))
        .digest('hex'),
    );
    expect(await scanForSecrets(trial!, [secret])).toEqual([]);
    // Still a valid archive: regrade verifies it (the redacted workdir still has solved.txt).
    const { report } = await regradeJob({ job: 'job', resultsDir: results, concurrency: 1 }, results);
    expect(report.trials).toEqual([expect.objectContaining({ after: expect.objectContaining({ status: 'passed' }) })]);
  });
});
