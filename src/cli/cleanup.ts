import { cleanupDocker } from '../environments/cleanup.js';
import { EXIT_CODES } from '../errors.js';
import type { RegisterCommand } from './registry.js';

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** `skill-eval cleanup`: removes the containers, networks and volumes a killed run left in the Docker engine. */
export const registerCleanup: RegisterCommand = (program, setExitCode) => {
  program
    .command('cleanup')
    .description('Remove every Docker container, network and volume skill-eval created (label skill-eval=1), e.g. after a killed run.')
    .option('--job <id>', 'only what this job created')
    .option('--json', 'print a machine-readable summary on stdout')
    .action(async (options: { job?: string; json?: boolean }) => {
      const result = await cleanupDocker({ jobId: options.job });
      if (options.json) {
        console.log(JSON.stringify({ job: options.job, ...result }, undefined, 2));
      } else {
        const scope = options.job ? ` of job ${options.job}` : '';
        console.log(`removed ${plural(result.containers, 'container')}, ${plural(result.networks, 'network')}, ${plural(result.volumes, 'volume')}${scope}`);
        for (const error of result.errors) console.error(`error: ${error}`);
      }
      if (result.errors.length > 0) setExitCode(EXIT_CODES.infra);
    });
};
