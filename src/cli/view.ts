import { plural } from '../analytics/format.js';
import { EXIT_CODES } from '../errors.js';
import {
  bundleCommand,
  DEFAULT_VIEW_DIR,
  DEFAULT_VIEW_HOST,
  DEFAULT_VIEW_PORT,
  serveCommand,
  type ViewOptions,
} from '../view/view.js';
import type { RegisterCommand } from './registry.js';

/** `skill-eval view [DIR…]`: parses, then serves (until Ctrl-C) or writes the static bundle (src/view/view.ts). */
export const registerView: RegisterCommand = (program, setExitCode) => {
  program
    .command('view')
    .description(
      "A local web app over result and job directories: jobs, the task × agent × arm grid with the statistics of analyze, each trial's transcript, and the two arms of a task side by side. Live while a job runs. --bundle writes it as a static site.",
    )
    .argument(
      '[dirs...]',
      `results directories, job directories or original skill-eval reports (default: ${DEFAULT_VIEW_DIR})`,
    )
    .option('--port <n>', 'port to listen on (0: any free port)', String(DEFAULT_VIEW_PORT))
    .option(
      '--host <host>',
      'address to listen on (another than 127.0.0.1 exposes your results to the network)',
      DEFAULT_VIEW_HOST,
    )
    .option('--open', 'open the page in the default browser', false)
    .option(
      '--bundle <out>',
      'write the app and its data as a static site to OUT (works from file://) instead of serving',
    )
    .action(async (dirs: string[], flags: ViewOptions) => {
      const options = { ...flags, dirs };
      if (flags.bundle !== undefined) {
        const outcome = await bundleCommand(options, process.cwd());
        process.stdout.write(
          `wrote ${outcome.out}/index.html: ${plural(outcome.jobs, 'job')}, ${plural(outcome.trials, 'trial')}, ${plural(outcome.runs, 'benchmark run')} (${plural(outcome.samples, 'sample')}), ${plural(outcome.rawFiles, 'raw file')}` +
            `${outcome.skippedRaw > 0 ? ` (${outcome.skippedRaw} larger than 5 MB left out)` : ''}\n`,
        );
        return;
      }
      const server = await serveCommand(options, process.cwd());
      process.stdout.write(`skill-eval view: ${server.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          void server.close().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      setExitCode(EXIT_CODES.ok);
    });
};
