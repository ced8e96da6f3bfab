// Copies the shell programs and plain scripts under src/ (loaded at run time with readFileSync next to their module,
// e.g. src/environments/docker/verify.sh, src/agents/acp/bridge.mjs) to the same place under dist/: tsc compiles
// only the TypeScript.
//   node scripts/copy-assets.mjs   (part of `pnpm build`)
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !(entry.name.endsWith('.sh') || entry.name.endsWith('.mjs'))) continue;
  const from = join(entry.parentPath ?? entry.path, entry.name);
  const to = join(dist, from.slice(src.length + 1));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  copied++;
}
console.log(`copy-assets: ${copied} assets copied to dist/`);
