#!/usr/bin/env node
// In a checkout (src/ is there) runs the TypeScript sources through tsx, a dev dependency, so a dist/ left by an
// earlier `pnpm build` or `npm pack` never runs stale code. The published package has no src/ and no tsx: it runs
// the compiled dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src', 'cli', 'main.ts');
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(sources).href);
} else {
  await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
}
