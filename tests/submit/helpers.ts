import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobConfig } from '../../src/jobs/job-config.js';
import { tempDir } from '../helpers/trials.js';

/** A planned job's directory as `<results>/jobs/<id>/job.json`, without running anything (tasks are only named). */
export async function plannedJobDir(
  overrides: Partial<JobConfig> = {},
): Promise<{ results: string; jobDir: string; config: JobConfig }> {
  const results = await tempDir('submit');
  const config: JobConfig = {
    job_id: '2026-12-02__15-00-00_Demo',
    created_at: '2026-12-02T15:00:00.000Z',
    command_line: ['skill-eval', 'eval', '--plan-only'],
    tasks: [
      { name: 'alpha', dir: join(results, 'tasks', 'alpha'), checksum: 'a'.repeat(64) },
      { name: 'beta', dir: join(results, 'tasks', 'beta'), checksum: 'b'.repeat(64) },
    ],
    agents: [{ name: 'oracle' }],
    arms: ['with-skills', 'no-skills'],
    trials: 3,
    provider: 'local',
    pass_threshold: 1,
    ...overrides,
  };
  const jobDir = join(results, 'jobs', config.job_id);
  await mkdir(jobDir, { recursive: true });
  await writeFile(join(jobDir, 'job.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { results, jobDir, config };
}
