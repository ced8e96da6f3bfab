// Bundles the viewer's front-end (src/view/app, Preact + htm) into dist/view/app.js for the published package, which
// ships no TypeScript sources: src/view/assets.ts serves that file when it is there and bundles the sources itself
// otherwise (running from the repository with tsx).
//   node scripts/build-view.mjs   (part of `pnpm build`)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'view', 'app.js');
const result = await build({
  entryPoints: [join(root, 'src', 'view', 'app', 'main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  legalComments: 'none',
  logLevel: 'silent',
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, result.outputFiles[0].text);
console.log(`build-view: ${out} (${result.outputFiles[0].text.length} bytes)`);
