import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  type AgentPackage,
  cacheDir,
  ensureInstalled,
  findInstalled,
  installDir,
  resolveLaunch,
} from '../../../src/agents/cli/install.js';
import { tempDir } from '../../helpers/trials.js';

const pkg: AgentPackage = {
  agent: 'fake',
  npmPackage: '@example/fake-cli',
  version: '1.2.3',
  launch: [
    { path: 'node_modules/fake/bin/fake.exe', minBytes: 1024 },
    { path: 'node_modules/fake-linux/fake' },
    { path: 'node_modules/fake/cli.js', node: true },
  ],
};

describe('agent cache', () => {
  it('lives in SKILL_EVAL_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache, one directory per agent and version', () => {
    expect(cacheDir({ SKILL_EVAL_CACHE_DIR: '/c' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/skill-eval');
    expect(cacheDir({})).toMatch(/\.cache\/skill-eval$/);
    expect(installDir(pkg, { SKILL_EVAL_CACHE_DIR: '/c' })).toBe('/c/agents/fake@1.2.3');
  });

  it('skips a placeholder smaller than minBytes and runs JavaScript entry points with node', async () => {
    const root = await tempDir('launch');
    expect(resolveLaunch(pkg, root)).toBeUndefined();
    mkdirSync(join(root, 'node_modules/fake/bin'), { recursive: true });
    writeFileSync(join(root, 'node_modules/fake/bin/fake.exe'), '#!/bin/sh\necho stub\n');
    writeFileSync(join(root, 'node_modules/fake/cli.js'), '');
    expect(resolveLaunch(pkg, root, '/usr/bin/node')).toEqual([
      '/usr/bin/node',
      join(root, 'node_modules/fake/cli.js'),
    ]);
    mkdirSync(join(root, 'node_modules/fake-linux'), { recursive: true });
    writeFileSync(join(root, 'node_modules/fake-linux/fake'), 'binary');
    expect(resolveLaunch(pkg, root)).toEqual([join(root, 'node_modules/fake-linux/fake')]);
    writeFileSync(join(root, 'node_modules/fake/bin/fake.exe'), Buffer.alloc(2048));
    expect(resolveLaunch(pkg, root)).toEqual([join(root, 'node_modules/fake/bin/fake.exe')]);
  });

  it('counts an install only once it is complete (marker written last)', async () => {
    const cache = await tempDir('cache');
    const env = { SKILL_EVAL_CACHE_DIR: cache };
    const root = installDir(pkg, env);
    mkdirSync(join(root, 'node_modules/fake-linux'), { recursive: true });
    writeFileSync(join(root, 'node_modules/fake-linux/fake'), 'binary');
    expect(findInstalled(pkg, env)).toBeUndefined();
    writeFileSync(join(root, '.skill-eval-installed.json'), '{}');
    expect(findInstalled(pkg, env)).toEqual({ root, argv: [join(root, 'node_modules/fake-linux/fake')] });
  });

  it('installs a real package from npm once, into the cache, even when asked twice at once', async () => {
    const cache = await tempDir('cache');
    const env = { ...process.env, SKILL_EVAL_CACHE_DIR: cache };
    let postInstalls = 0;
    const semver: AgentPackage = {
      agent: 'semver',
      npmPackage: 'semver',
      version: '7.6.3',
      launch: [{ path: 'node_modules/semver/bin/semver.js', node: true }],
      postInstall: async () => {
        postInstalls += 1;
      },
    };
    const [first, second] = await Promise.all([ensureInstalled(semver, { env }), ensureInstalled(semver, { env })]);
    expect(first).toEqual(second);
    expect(first.root).toBe(join(cache, 'agents', 'semver@7.6.3'));
    expect(postInstalls).toBe(1);
    const run = await execa(first.argv[0]!, [...first.argv.slice(1), '--increment', 'minor', '1.2.3']);
    expect(run.stdout.trim()).toBe('1.3.0');
    expect(await ensureInstalled(semver, { env })).toEqual(first);
    expect(postInstalls).toBe(1);
  }, 120_000);
});
