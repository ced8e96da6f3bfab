import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { regradeJob } from '../../src/regrade/regrade.js';
import { engineGate } from '../environments/docker-engine.js';
import { tempDir } from '../helpers/trials.js';
import { copiedTrivialTask, readResult, runJob, sessionRecords } from './helpers.js';

const runs = await engineGate('regrade on the Docker provider');

describe.runIf(runs)('skill-eval regrade on the Docker provider', () => {
  it('restores the workdir as the agent left it (a shipped file it removed stays removed) and verifies it again', async () => {
    const taskDir = await copiedTrivialTask();
    await writeFile(
      join(taskDir, 'environment', 'Dockerfile'),
      'FROM skill-eval/base:bookworm\nWORKDIR /app\nRUN echo shipped > shipped.txt && mkdir -p sub && echo kept > sub/kept.txt\n',
    );
    await writeFile(
      join(taskDir, 'solution', 'solve.sh'),
      '#!/usr/bin/env bash\nrm shipped.txt\necho solved > solved.txt\nln -s sub/kept.txt link.txt\n',
    );
    const verdict = (solved: string) =>
      `#!/usr/bin/env bash\nmkdir -p /logs/verifier\nif [ -f solved.txt ] && [ ! -e shipped.txt ] && [ "$(cat link.txt)" = kept ]; then echo ${solved} > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n`;
    await writeFile(join(taskDir, 'tests', 'test.sh'), verdict('1'));
    const results = await tempDir('regrade-docker');
    const jobDir = await runJob(taskDir, results, { provider: 'docker' });
    const [trial] = (await readdir(jobDir)).filter((name) => name.startsWith('trivial__'));
    const original = await readResult(join(jobDir, trial!));
    expect(original.status).toBe('passed');
    expect(original.workspace?.sha256).toMatch(/^[0-9a-f]{64}$/);

    await writeFile(join(taskDir, 'tests', 'test.sh'), verdict('0.5'));
    const { report, exitCode } = await regradeJob({ job: 'job', resultsDir: results, concurrency: 1 }, results);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ provider: 'docker', regraded: 1, mean_reward_after: 0.5, passed_to_failed: 1 });
    const regraded = join(report.regrade_dir, trial!);
    expect(await readResult(regraded)).toMatchObject({ status: 'failed', reward: 0.5, provider: 'docker' });
    const records = await sessionRecords(regraded);
    expect(records.filter((r) => r.type === 'command' || (r.type === 'phase' && r.phase === 'agent'))).toEqual([]);
  }, 120_000);
});
