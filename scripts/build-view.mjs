// Bundles the viewer's front-end (src/view/app, Preact + htm) into dist/view/app.js for the published package, which
// ships no TypeScript sources: src/view/assets.ts serves that file when it is there and bundles the sources itself
// otherwise (running from the repository with tsx). Runs after tsc, with the compiled bundler.
//   node scripts/build-view.mjs   (part of `pnpm build`)
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { bundleApp } = await import(join(root, 'dist', 'view', 'assets.js'));
const out = join(root, 'dist', 'view', 'app.js');
const text = await bundleApp(join(root, 'src', 'view', 'app', 'main.ts'));
writeFileSync(out, text);
console.log(`build-view: ${out} (${text.length} bytes)`);
