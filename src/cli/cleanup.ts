import { cleanupDocker, type DockerCleanupResult } from '../environments/cleanup.js';
import { cleanupLocal, type LocalCleanupReport } from '../environments/local-cleanup.js';
import { EXIT_CODES, errorMessage, InfraError } from '../errors.js';
import type { RegisterCommand } from './registry.js';

function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

function printDocker(docker: DockerCleanupResult, job: string | undefined): void {
  const scope = job ? ` of job ${job}` : '';
  console.log(
    `docker: removed ${plural(docker.containers, 'container')}, ${plural(docker.networks, 'network')}, ${plural(docker.volumes, 'volume')}${scope}`,
  );
  for (const kept of docker.kept) {
    const of = kept.job ? ` (job ${kept.job})` : '';
    console.log(`docker: kept ${kept.kind} ${kept.name}${of}: ${kept.reason}`);
  }
  if (docker.kept.length > 0) console.log('docker: --force removes what was kept (it stops those runs)');
  for (const error of docker.errors) console.error(`error: ${error}`);
}

function printLocal(local: LocalCleanupReport): void {
  console.log(
    `local: killed ${plural(local.processesKilled, 'orphaned process', 'orphaned processes')}, removed ${plural(local.directoriesRemoved, 'trial directory', 'trial directories')}`,
  );
  for (const kept of local.kept)
    console.log(`local: kept ${kept.kind} ${kept.name}: skill-eval process ${kept.owner} still runs`);
  if (local.kept.length > 0) console.log('local: --force removes what was kept (it stops those runs)');
}

/**
 * `skill-eval cleanup`: removes what a killed run left — Docker containers, networks and volumes (label
 * skill-eval=1), and the local provider's orphaned processes and trial directories. What a skill-eval process
 * that still runs holds is kept (Docker: owner pid and host labels) unless `--force`.
 */
export const registerCleanup: RegisterCommand = (program, setExitCode) => {
  program
    .command('cleanup')
    .description(
      'Remove what a killed run left: Docker containers, networks and volumes labelled skill-eval=1, and orphaned local trial processes and temp dirs. What a running skill-eval process holds is kept unless --force.',
    )
    .option(
      '--job <id>',
      'only what this job created (Docker containers, networks, volumes; local trial directories and processes)',
    )
    .option(
      '--force',
      'also remove the containers, processes and trial directories of runs that are still going (stops them)',
    )
    .option('--json', 'print a machine-readable summary on stdout')
    .action(async (options: { job?: string; force?: boolean; json?: boolean }) => {
      const local = await cleanupLocal({ force: options.force, jobId: options.job });
      let docker: DockerCleanupResult | undefined;
      let dockerNote: string | undefined;
      try {
        docker = await cleanupDocker({ jobId: options.job, force: options.force });
      } catch (error) {
        // No engine means no containers to clean: not a failure of cleanup.
        if (!(error instanceof InfraError)) throw error;
        dockerNote = `Docker skipped: ${errorMessage(error)}`;
      }
      if (options.json) {
        console.log(JSON.stringify({ job: options.job, local, docker, docker_note: dockerNote }, undefined, 2));
      } else {
        printLocal(local);
        if (docker) printDocker(docker, options.job);
        else console.log(dockerNote);
      }
      if (docker && docker.errors.length > 0) setExitCode(EXIT_CODES.infra);
    });
};
