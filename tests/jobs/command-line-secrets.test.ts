import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { redactCommandLine } from '../../src/util/redact-command-line.js';
import { Redactor } from '../../src/util/secrets.js';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

describe('the recorded command line', () => {
  it('replaces every --env value whole, whatever its length, and redacts secrets anywhere else', () => {
    const redactor = new Redactor(['sk-host-secret-1']);
    expect(
      redactCommandLine(
        ['eval', '--env', 'MODE=fast', '--env=TINY=ab', '--env', 'HOST_ONLY', '--note', 'x sk-host-secret-1'],
        redactor,
      ),
    ).toEqual([
      'eval',
      '--env',
      'MODE=[REDACTED]',
      '--env=TINY=[REDACTED]',
      '--env',
      'HOST_ONLY',
      '--note',
      'x [REDACTED]',
    ]);
  });

  it('keeps --env KEY=VALUE values out of job.json and the per-task reports', async () => {
    const results = await tempDir('command-line-secrets');
    const secret = 'value-of-an-env-flag-9Zq';
    const env = [`MODE=${secret}`, 'TINY=ab'];
    const commandLine = ['eval', 'trivial', '--env', env[0]!, `--env=${env[1]}`, `--label=${secret}`];
    const plan = await planEval(trivialJobOptions(results, { env }), results, { commandLine, hostEnv: {} });
    expect(plan.env).toMatchObject({ MODE: secret, TINY: 'ab' });
    const outcome = await runEvalJob(plan);
    expect(outcome.reportPaths.length).toBe(1);
    const jobJson = JSON.parse(await readFile(join(plan.jobDir, 'job.json'), 'utf8')) as { command_line: string[] };
    expect(jobJson.command_line).toEqual([
      'eval',
      'trivial',
      '--env',
      'MODE=[REDACTED]',
      '--env=TINY=[REDACTED]',
      '--label=[REDACTED]',
    ]);
    const report = JSON.parse(await readFile(outcome.reportPaths[0]!, 'utf8')) as { command_line: string[] };
    expect(report.command_line).toEqual(jobJson.command_line);
    expect(await scanForSecrets(results, [secret])).toEqual([]);
    for (const name of await readdir(results))
      if (name.endsWith('.json')) expect(await readFile(join(results, name), 'utf8')).not.toContain('TINY=ab');
  });
});
