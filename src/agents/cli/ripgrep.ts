import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import { errorMessage } from '../../errors.js';

/** The Codex release whose platform package the last-resort ripgrep comes from (the one src/agents/codex.ts pins). */
const RIPGREP_CODEX_VERSION = '0.169.0';

/**
 * Puts a ripgrep binary at `<root>/bin/rg`. OpenCode needs `rg` for its file search and skill tools and, when it
 * finds none, downloads one from GitHub at run time, which an offline or sandboxed trial cannot do. Sources,
 * in order: `rg` on this machine's PATH; Debian's `ripgrep` package (`apt-get download`, unpacked, no root
 * needed); the static `rg` inside Codex's npm platform package (a large download, only when nothing else works). Without either the CLI still installs, with a warning: its search and skill tools will fail.
 */
export async function provideRipgrep(root: string, log: (line: string) => void): Promise<boolean> {
  const binDir = join(root, 'bin');
  const target = join(binDir, 'rg');
  await mkdir(binDir, { recursive: true });
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => isAbsolute(d))
    .map((d) => join(d, 'rg'))
    .find((path) => existsSync(path));
  if (onPath) {
    await copyFile(onPath, target);
    await chmod(target, 0o755);
    log(`ripgrep: copied ${onPath}`);
    return true;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'skill-eval-rg-'));
  try {
    await execa('apt-get', ['download', 'ripgrep'], { cwd: scratch, reject: true, timeout: 120_000 });
    const deb = (await readdir(scratch)).find((name) => name.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download ripgrep produced no .deb');
    await execa('dpkg-deb', ['-x', join(scratch, deb), join(scratch, 'x')], { reject: true, timeout: 60_000 });
    await copyFile(join(scratch, 'x', 'usr', 'bin', 'rg'), target);
    await chmod(target, 0o755);
    log(`ripgrep: unpacked Debian's ${deb}`);
    return true;
  } catch (error) {
    log(
      `ripgrep: apt-get download ripgrep failed (${errorMessage(error)}); trying the npm package of Codex, which ships a static rg`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  try {
    await ripgrepFromCodexPackage(target);
    log('ripgrep: taken from the npm package of Codex');
    return true;
  } catch (error) {
    log(
      `warning: no ripgrep for the agent CLI (not on PATH, no Debian package, no npm fallback: ${errorMessage(error)}); install ripgrep so its search and skill tools work`,
    );
    return false;
  }
}

/** Codex's platform packages carry a static-pie `rg` (vendor/<triple>/codex-path/rg): fetch one tarball, keep that file. */
async function ripgrepFromCodexPackage(target: string): Promise<void> {
  const arch = process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x64' : undefined;
  if (process.platform !== 'linux' || !arch)
    throw new Error(`no Codex package for ${process.platform}-${process.arch}`);
  const triple = `${arch === 'arm64' ? 'aarch64' : 'x86_64'}-unknown-linux-musl`;
  const scratch = await mkdtemp(join(tmpdir(), 'skill-eval-rg-npm-'));
  try {
    const packed = await execa('npm', ['pack', '--silent', `@openai/codex@${RIPGREP_CODEX_VERSION}-linux-${arch}`], {
      cwd: scratch,
      reject: true,
      timeout: 10 * 60_000,
    });
    const tarball = String(packed.stdout).trim().split('\n').at(-1) ?? '';
    const member = `package/vendor/${triple}/codex-path/rg`;
    await execa('tar', ['-xzf', join(scratch, tarball), '-C', scratch, member], { reject: true, timeout: 5 * 60_000 });
    await copyFile(join(scratch, member), target);
    await chmod(target, 0o755);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
