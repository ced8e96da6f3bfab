import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createEngineClient, pingEngine } from '../environments/docker/engine.js';
import { LABEL_CONTEXT_HASH, LABEL_IMAGE_KIND, LABEL_IMAGE_TASK } from '../environments/docker/names.js';
import { EXIT_CODES, InfraError } from '../errors.js';
import type { RegisterCommand } from './registry.js';

/** scripts/build-base-image.sh of this package (src/cli/ and dist/cli/ are both two levels below the root). */
export const BASE_IMAGE_SCRIPT = fileURLToPath(new URL('../../scripts/build-base-image.sh', import.meta.url));
export const BASE_IMAGE = 'skill-eval/base:bookworm';

function imagesCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'images');
  if (existing) return existing;
  return program
    .command('images')
    .description('Docker images skill-eval builds: the offline base image and the task images.');
}

function runScript(script: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

interface ImageRow {
  reference: string;
  id: string;
  kind: string;
  task?: string | undefined;
  sizeMb: number;
  created: string;
  contextHash?: string | undefined;
}

export const registerImages: RegisterCommand = (program, setExitCode) => {
  const images = imagesCommand(program);

  images
    .command('build-base')
    .description(`Build ${BASE_IMAGE} offline with debootstrap from Debian's mirror (cached: skipped when up to date).`)
    .option('--force', 'rebuild even when the image is up to date')
    .action(async (options: { force?: boolean }) => {
      if (!existsSync(BASE_IMAGE_SCRIPT)) {
        throw new InfraError(`${BASE_IMAGE_SCRIPT} is missing from this installation`, { retryable: false });
      }
      // CI=true makes the script fail loudly instead of warning; the CLI always wants a real answer.
      const code = await runScript(BASE_IMAGE_SCRIPT, options.force ? ['--force'] : []);
      if (code !== 0) setExitCode(EXIT_CODES.infra);
    });

  images
    .command('list')
    .description('List the images skill-eval built (task images, agent layers, the base image).')
    .option('--json', 'print machine-readable rows on stdout')
    .action(async (options: { json?: boolean }) => {
      const docker = createEngineClient();
      await pingEngine(docker);
      const [built, base] = await Promise.all([
        docker.listImages({ filters: JSON.stringify({ label: [LABEL_IMAGE_KIND] }) }),
        docker.listImages({ filters: JSON.stringify({ label: ['skill-eval.base.version'] }) }),
      ]);
      // Task images inherit the base image's labels: list each image once.
      const baseOnly = base.filter((image) => image.Labels?.[LABEL_IMAGE_KIND] === undefined);
      const rows: ImageRow[] = [...baseOnly, ...built].flatMap((image) =>
        (image.RepoTags ?? ['<untagged>']).map((reference) => ({
          reference,
          id: image.Id.replace(/^sha256:/, '').slice(0, 12),
          kind: image.Labels?.[LABEL_IMAGE_KIND] ?? 'base',
          task: image.Labels?.[LABEL_IMAGE_TASK],
          sizeMb: Math.round(image.Size / 1e6),
          created: new Date(image.Created * 1000).toISOString(),
          contextHash: image.Labels?.[LABEL_CONTEXT_HASH],
        })),
      );
      if (options.json) {
        console.log(JSON.stringify(rows, undefined, 2));
        return;
      }
      if (rows.length === 0) {
        console.log(`no skill-eval images (build the base image with \`skill-eval images build-base\`)`);
        return;
      }
      for (const row of rows)
        console.log(
          `${row.reference.padEnd(60)} ${row.kind.padEnd(5)} ${row.id} ${String(row.sizeMb).padStart(6)} MB  ${row.created}`,
        );
    });
};
