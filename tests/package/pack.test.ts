/**
 * The published package, as a user gets it: `npm pack` (prepack builds dist/), `npm install` of the tarball into an
 * empty project (its dependencies from the npm registry), then the demo evaluation through the installed bin and
 * the library through its export. Packs a copy of the checkout so no dist/ is left in the working tree.
 */
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';

/** Not part of a pack, or rebuilt by it. */
const LEFT_OUT = new Set(['node_modules', '.git', 'dist', 'tests', 'bench', 'test-artifacts', 'results', 'jobs']);

/** The environment without the npm_* variables pnpm or npm set for a script: the commands run as in a shell. */
function plainEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

async function run(command: string, args: string[], cwd: string) {
  const result = await execa(command, args, { cwd, env: plainEnv(), extendEnv: false, reject: false, all: true });
  expect(result.exitCode, `${command} ${args.join(' ')}\n${result.all}`).toBe(0);
  return { stdout: String(result.stdout), all: String(result.all) };
}

async function packCheckout(): Promise<string> {
  const checkout = await tempDir('pack-checkout');
  cpSync(REPO_ROOT, checkout, {
    recursive: true,
    filter: (source) => !LEFT_OUT.has(relative(REPO_ROOT, source).split('/')[0] ?? ''),
  });
  // The build's tools (tsc) come from the checkout's dev dependencies.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'));
  await run('npm', ['pack', '--pack-destination', checkout], checkout);
  const tarball = readdirSync(checkout).find((name) => name.endsWith('.tgz'));
  expect(tarball).toBeDefined();
  return join(checkout, tarball!);
}

describe('npm pack + install in an empty project', () => {
  it('runs the demo evaluation with the installed bin and imports the library, without tsx or sources', async () => {
    const tarball = await packCheckout();
    const project = await tempDir('pack-install');
    await run('npm', ['init', '-y'], project);
    await run('npm', ['install', '--no-audit', '--no-fund', tarball], project);
    const installed = join(project, 'node_modules/skill-eval');
    expect(existsSync(join(installed, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    // tsx is a dev dependency: nothing the installed package runs may need it.
    expect(existsSync(join(project, 'node_modules/tsx'))).toBe(false);

    const demo = await run(
      'npx',
      [
        '--no', // the installed bin or nothing: never a download
        'skill-eval',
        'eval',
        'node_modules/skill-eval/tasks/superlint_demo',
        '--agent=oracle',
        '--provider=local',
        `--results-dir=${join(project, 'results')}`,
      ],
      project,
    );
    expect(demo.all).toContain('[5/5] superlint_demo oracle with-skills');
    expect(demo.stdout).toMatch(/superlint_demo \| oracle \| with-skills \| 5 +\| 5\/5/);
    expect(demo.stdout).toContain('trials: 5/5 (passed 5)');

    const library = await run(
      'node',
      ['--input-type=module', '-e', "const m = await import('skill-eval'); console.log(typeof m.setup);"],
      project,
    );
    expect(library.stdout.trim()).toBe('function');
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(basename(tarball)).toBe(`skill-eval-${version}.tgz`);
  }, 300_000);
});
