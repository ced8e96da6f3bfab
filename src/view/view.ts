import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { type BundleOutcome, writeBundle } from './bundle.js';
import { Catalog } from './catalog.js';
import { createApp, listen, type RunningServer } from './server.js';

/** `skill-eval view [DIR…]`: serve the viewer over result and job directories, or write it as a static site. */

export interface ViewOptions {
  dirs?: string[] | undefined;
  port?: number | string | undefined;
  host?: string | undefined;
  open?: boolean | undefined;
  /** Write the static site here instead of serving. */
  bundle?: string | undefined;
}

export const DEFAULT_VIEW_PORT = 7878;
export const DEFAULT_VIEW_HOST = '127.0.0.1';
export const DEFAULT_VIEW_DIR = './results';

export function viewCatalog(options: ViewOptions, cwd: string): Catalog {
  const dirs = (options.dirs?.length ? options.dirs : [DEFAULT_VIEW_DIR]).map((dir) => resolve(cwd, dir));
  for (const dir of dirs)
    if (!existsSync(dir))
      throw new UsageError(`${dir}: no such directory`, {
        hint: 'pass a results directory (skill-eval view results) or a job directory (results/jobs/<job>)',
      });
  const catalog = new Catalog(dirs);
  catalog.refresh(true);
  return catalog;
}

export function parsePort(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_VIEW_PORT;
  const port = Number(value);
  if (String(value).trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: expected a whole number from 0 to 65535 (0: any free port), found "${value}"`);
  return port;
}

export async function bundleCommand(options: ViewOptions, cwd: string): Promise<BundleOutcome> {
  if (options.bundle === undefined || options.bundle.trim() === '')
    throw new UsageError('--bundle: expected an output directory');
  const out = resolve(cwd, options.bundle);
  const catalog = viewCatalog(options, cwd);
  if (catalog.roots.some((root) => out === root || out.startsWith(`${root}/`)))
    throw new UsageError(`--bundle ${options.bundle}: the site would be written inside a directory it reads`, {
      hint: 'write it next to the results, e.g. skill-eval view --bundle site results',
    });
  return writeBundle(catalog, out);
}

export async function serveCommand(options: ViewOptions, cwd: string): Promise<RunningServer> {
  const port = parsePort(options.port);
  const host = options.host ?? DEFAULT_VIEW_HOST;
  const catalog = viewCatalog(options, cwd);
  // Read every job once before answering: the first page then opens from memory.
  for (const store of catalog.all()) store.jobView();
  const server = await listen(createApp(catalog), host, port);
  if (options.open) openBrowser(server.url);
  return server;
}

/** Best effort: the system's opener (xdg-open, open, start); the URL is printed either way. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the printed URL is enough
  }
}
