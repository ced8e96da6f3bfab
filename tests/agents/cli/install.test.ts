import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  type AgentPackage,
  cacheDir,
  ensureInstalled,
  ensureInstalledOutsideTrial,
  findInstalled,
  installDir,
  resolveLaunch,
} from '../../../src/agents/cli/install.js';
import { AgentError, EXIT_CODES, InfraError, InterruptedError } from '../../../src/errors.js';
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

  describe('a CLI that cannot be installed', () => {
    /** An empty cache and a PATH whose npm always fails, as with an unreachable registry. */
    async function failingNpm(): Promise<NodeJS.ProcessEnv> {
      const dir = await tempDir('failing-npm');
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'npm'), '#!/bin/sh\necho "npm error code ECONNREFUSED" >&2\nexit 1\n');
      chmodSync(join(dir, 'bin', 'npm'), 0o755);
      return { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, SKILL_EVAL_CACHE_DIR: join(dir, 'c') };
    }

    it('inside a trial is an infrastructure error (never a failed trial of the agent)', async () => {
      const failure = await ensureInstalled(pkg, { env: await failingNpm() }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InfraError);
      expect((failure as InfraError).message).toMatch(
        /npm install @example\/fake-cli@1\.2\.3 failed \(exit 1\): .*ECONNREFUSED/,
      );
    });

    it('before any trial is an agent error, exit 4, caused by the npm failure', async () => {
      const failure = await ensureInstalledOutsideTrial(pkg, { env: await failingNpm() }).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(AgentError);
      const error = failure as AgentError;
      expect(error.exitCode).toBe(EXIT_CODES.agent);
      expect(error.message).toMatch(/^the fake agent CLI could not be installed: npm install .*ECONNREFUSED/);
      expect(error.cause).toBeInstanceOf(InfraError);
      expect(error.hint).toMatch(/npm ping/);
    });

    it('cancelled before any trial is an interrupt (exit 130), not an agent error', async () => {
      const controller = new AbortController();
      controller.abort();
      const failure = await ensureInstalledOutsideTrial(pkg, {
        env: await failingNpm(),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InterruptedError);
      expect((failure as InterruptedError).exitCode).toBe(EXIT_CODES.interrupted);
    });
  });
});
