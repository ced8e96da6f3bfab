/** A resumed job first reclaims what its own dead runs left (provider.reclaimJob); a new job does not. */
import { describe, expect, it } from 'vitest';
import { createProvider } from '../../src/environments/registry.js';
import type { EnvironmentProvider, ReclaimReport } from '../../src/environments/types.js';
import type { EvalNotice } from '../../src/jobs/eval-tasks.js';
import { planEval } from '../../src/jobs/plan-eval.js';
import { runEvalJob } from '../../src/jobs/run-eval.js';
import { tempDir } from '../helpers/trials.js';
import { trivialJobOptions } from './helpers.js';

/** The local provider, recording every reclaim it is asked for and answering `answer`. */
async function reclaimingProvider(answer: () => Promise<ReclaimReport>) {
  const local = await createProvider('local', {});
  const reclaimed: string[] = [];
  const provider: EnvironmentProvider = {
    ...local,
    reclaimJob: (jobId: string) => {
      reclaimed.push(jobId);
      return answer();
    },
  };
  return { provider, reclaimed };
}

describe('planEval reclaims a resumed job', () => {
  it("asks the provider to reclaim the job's leftovers on resume only, and says what it removed and kept", async () => {
    const results = await tempDir('reclaim');
    const { provider, reclaimed } = await reclaimingProvider(async () => ({
      removed: 2,
      notes: ['kept container c1: its owner, skill-eval process 1, is still running'],
    }));
    await runEvalJob(await planEval(trivialJobOptions(results, { provider, jobName: 'reclaim' }), results));
    expect(reclaimed).toEqual([]);

    const notices: EvalNotice[] = [];
    const again = await planEval(trivialJobOptions(results, { provider, jobName: 'reclaim' }), results, {
      onNotice: (n) => notices.push(n),
    });
    expect(again.resumed).toBe(true);
    expect(reclaimed).toEqual(['reclaim']);
    expect(notices).toContainEqual({
      level: 'note',
      message: 'removed 2 leftovers of earlier, dead runs of job reclaim (local)',
    });
    expect(notices).toContainEqual({
      level: 'warning',
      message: 'job reclaim: kept container c1: its owner, skill-eval process 1, is still running',
    });
  });

  it('resumes anyway when reclaiming fails, with a warning', async () => {
    const results = await tempDir('reclaim-fails');
    const { provider, reclaimed } = await reclaimingProvider(async () => {
      throw new Error('engine went away');
    });
    await runEvalJob(await planEval(trivialJobOptions(results, { provider, jobName: 'reclaim' }), results));
    const notices: EvalNotice[] = [];
    const again = await planEval(trivialJobOptions(results, { provider, jobName: 'reclaim' }), results, {
      onNotice: (n) => notices.push(n),
    });
    expect(again.resumed).toBe(true);
    expect(reclaimed).toEqual(['reclaim']);
    expect(notices).toContainEqual({
      level: 'warning',
      message: 'could not remove the leftovers of job reclaim: engine went away',
    });
  });
});
