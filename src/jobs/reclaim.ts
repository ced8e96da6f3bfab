import type { EnvironmentProvider } from '../environments/types.js';
import { errorMessage } from '../errors.js';
import type { EvalNotice } from './eval-tasks.js';

/**
 * A resumed job first removes what its own earlier, dead runs left (a SIGKILLed run's containers would keep
 * running until `cleanup` otherwise). Best effort: a failure is a warning, never a reason not to resume.
 */
export async function reclaimResumedJob(
  provider: EnvironmentProvider,
  jobId: string,
  notify: (notice: EvalNotice) => void,
): Promise<void> {
  if (!provider.reclaimJob) return;
  try {
    const report = await provider.reclaimJob(jobId);
    if (report.removed > 0) {
      const what = report.removed === 1 ? '1 leftover' : `${report.removed} leftovers`;
      notify({ level: 'note', message: `removed ${what} of earlier, dead runs of job ${jobId} (${provider.name})` });
    }
    for (const note of report.notes) notify({ level: 'warning', message: `job ${jobId}: ${note}` });
  } catch (error) {
    notify({ level: 'warning', message: `could not remove the leftovers of job ${jobId}: ${errorMessage(error)}` });
  }
}
