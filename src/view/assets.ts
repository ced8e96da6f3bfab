import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATS_STYLE } from '../analytics/render/html-stats.js';
import { InfraError } from '../errors.js';
import { VIEW_STYLE } from './app/style.js';

/**
 * The front-end as one classic script: src/view/app (Preact + htm) bundled by esbuild into an IIFE — no ES module,
 * no fetch of code, so the same file runs from a server and from `file://` (where Chromium refuses module scripts).
 * Built once per process from the TypeScript sources (tsx), or read from the bundle `pnpm build` put in dist.
 */

let built: Promise<string> | undefined;

export function appScript(): Promise<string> {
  built ??= build();
  return built;
}

async function build(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  // The published package carries the bundle `pnpm build` made (scripts/build-view.mjs), not the sources.
  const prebuilt = join(here, 'app.js');
  if (existsSync(prebuilt)) return readFile(prebuilt, 'utf8');
  const entry = join(here, 'app', 'main.ts');
  if (!existsSync(entry)) throw new InfraError(`the viewer's front-end is missing: no ${prebuilt} or ${entry}`);
  return bundleApp(entry);
}

/** The front-end from its entry module as one minified classic script (also `pnpm build`: scripts/build-view.mjs). */
export async function bundleApp(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export function appStyle(): string {
  return `${STATS_STYLE}\n${VIEW_STYLE}`;
}

/** The page: a classic script and a stylesheet, both relative, so it works under any path and from disk. */
export function indexHtml(mode: 'server' | 'bundle'): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>skill-eval view</title>
<link rel="stylesheet" href="assets/app.css">
</head>
<body data-mode="${mode}">
<div id="app"><p class="loading">Loading…</p></div>
<script src="assets/app.js"></script>
</body>
</html>
`;
}
