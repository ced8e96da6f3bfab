/** The Docker provider's pure parts: build context choice and hash, names and tags, limit mapping. No engine needed. */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRuntime } from '../../src/environments/docker/checks.js';
import { planBuildContext } from '../../src/environments/docker/context.js';
import { type EngineFacts, planLimits } from '../../src/environments/docker/limits.js';
import { containerName, imageRepository, layeredImageTag, taskImageTag } from '../../src/environments/docker/names.js';
import { homeFromPasswd } from '../../src/environments/docker.js';
import { defaultTaskConfig } from '../../src/task/schema.js';
import { type TreeEntry, writeTree } from '../task/helpers.js';

async function taskDir(files: Record<string, TreeEntry>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skill-eval-context-test-'));
  await writeTree(dir, files);
  return dir;
}

const HARBOR: Record<string, TreeEntry> = {
  'environment/Dockerfile': 'FROM skill-eval/base:bookworm\nWORKDIR /app\nCOPY app/ /app/\n',
  'environment/app/main.sh': { content: 'echo main\n', mode: 0o755 },
  'tests/test.sh': 'echo 1 > /logs/verifier/reward.txt\n',
  'solution/solve.sh': 'true\n',
  'instruction.md': 'Do it.\n',
};

describe('docker build context', () => {
  it('is environment/ for Harbor tasks, with modes, and hashes the same twice', async () => {
    const dir = await taskDir(HARBOR);
    const plan = await planBuildContext({ taskDir: dir, dockerfile: join(dir, 'environment/Dockerfile') });
    expect(plan.kind).toBe('environment');
    expect(plan.dockerfile).toBe('Dockerfile');
    expect(plan.entries.map((e) => e.path)).toEqual(['Dockerfile', 'app', 'app/main.sh']);
    expect(plan.entries.find((e) => e.path === 'app/main.sh')?.mode).toBe(0o755);
    const again = await planBuildContext({ taskDir: dir, dockerfile: join(dir, 'environment/Dockerfile') });
    expect(again.hash).toBe(plan.hash);
    expect(plan.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes its hash with content, mode, build args — not with files outside the context', async () => {
    const dir = await taskDir(HARBOR);
    const dockerfile = join(dir, 'environment/Dockerfile');
    const first = (await planBuildContext({ taskDir: dir, dockerfile })).hash;
    await writeFile(join(dir, 'instruction.md'), 'Something else.\n');
    await writeFile(join(dir, 'tests/test.sh'), 'echo 0 > /logs/verifier/reward.txt\n');
    expect((await planBuildContext({ taskDir: dir, dockerfile })).hash).toBe(first);
    await chmod(join(dir, 'environment/app/main.sh'), 0o644);
    const afterMode = (await planBuildContext({ taskDir: dir, dockerfile })).hash;
    expect(afterMode).not.toBe(first);
    await writeFile(join(dir, 'environment/app/main.sh'), 'echo changed\n');
    const afterContent = (await planBuildContext({ taskDir: dir, dockerfile })).hash;
    expect(afterContent).not.toBe(afterMode);
    expect((await planBuildContext({ taskDir: dir, dockerfile, buildArgs: { A: '1' } })).hash).not.toBe(afterContent);
  });

  it('switches to the task root for legacy Dockerfiles, limited to what they copy, never tests/ or solution/', async () => {
    const dir = await taskDir({
      ...HARBOR,
      'environment/Dockerfile': 'FROM skill-eval/base:bookworm\nCOPY environment/app /app\nCOPY skills /opt/skills\n',
      'skills/tool/SKILL.md': '---\nname: tool\ndescription: d\n---\nbody\n',
      'notes.txt': 'not copied by the Dockerfile\n',
    });
    const plan = await planBuildContext({ taskDir: dir, dockerfile: join(dir, 'environment/Dockerfile') });
    expect(plan.kind).toBe('task-root');
    expect(plan.dockerfile).toBe('environment/Dockerfile');
    const paths = plan.entries.map((e) => e.path);
    expect(paths).toContain('environment/app/main.sh');
    expect(paths).toContain('skills/tool/SKILL.md');
    expect(
      paths.some(
        (p) => p.startsWith('tests') || p.startsWith('solution') || p === 'notes.txt' || p === 'instruction.md',
      ),
    ).toBe(false);
    expect(plan.notes.join('\n')).toMatch(/legacy build context/);
    expect(plan.notes.join('\n')).toMatch(/no-skills arm sees them/);
  });

  it('takes the whole task root (still minus tests/ and solution/) when a legacy Dockerfile copies `.`', async () => {
    const dir = await taskDir({
      ...HARBOR,
      'environment/Dockerfile':
        'FROM skill-eval/base:bookworm\nCOPY environment/app /app\nCOPY . /ctx\nCOPY tests /tests\n',
    });
    const plan = await planBuildContext({ taskDir: dir, dockerfile: join(dir, 'environment/Dockerfile') });
    const paths = plan.entries.map((e) => e.path);
    expect(paths).toContain('instruction.md');
    expect(paths.some((p) => p.startsWith('tests') || p.startsWith('solution'))).toBe(false);
    expect(plan.notes.join('\n')).toMatch(/tests\/ is never part of the build context/);
  });
});

describe('docker names', () => {
  it('makes valid, unique container names and lowercase content-addressed tags', () => {
    expect(containerName('job 1', 'abc')).toBe('skill-eval-job-1-abc');
    const long = containerName('j'.repeat(200), 'trial42');
    expect(long.length).toBeLessThanOrEqual(120);
    expect(long.endsWith('-trial42')).toBe(true);
    expect(imageRepository('Super Lint__Demo')).toBe('skill-eval/task-super-lint-demo');
    const hash = 'a'.repeat(64);
    expect(taskImageTag('superlint_demo', hash)).toBe(`skill-eval/task-superlint_demo:${'a'.repeat(24)}`);
    expect(layeredImageTag(`skill-eval/task-x:${'b'.repeat(24)}`, ['Claude Code/1.0'])).toBe(
      `skill-eval/task-x:${'b'.repeat(24)}-Claude-Code-1.0`,
    );
  });

  it('finds a home directory in /etc/passwd by name or uid', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nagent:x:1000:1000::/home/agent:/bin/bash\n';
    expect(homeFromPasswd(passwd, 'agent')).toBe('/home/agent');
    expect(homeFromPasswd(passwd, '1000:1000')).toBe('/home/agent');
    expect(homeFromPasswd(passwd, 'ghost')).toBeUndefined();
  });
});

describe('docker limits', () => {
  const facts: EngineFacts = {
    serverVersion: 'x',
    storageDriver: 'overlay2',
    backingFilesystem: 'extfs',
    swapLimit: true,
    pidsLimit: true,
    cpuCfsQuota: true,
    hostCpus: 2,
    runtimes: ['runc'],
    runtimeArgs: {},
  };

  it('runs every container under --runtime and records it; without it the engine default is left alone', () => {
    const environment = defaultTaskConfig().environment;
    const gvisor = planLimits(environment, facts, { pidsLimit: 4096, storageRefused: false, runtime: 'runsc' });
    expect(gvisor.hostConfig.Runtime).toBe('runsc');
    expect(gvisor.report.runtime).toBe('runsc');
    expect(gvisor.report.notes).toContain('runtime: runsc (--runtime)');
    const plain = planLimits(environment, facts, { pidsLimit: 4096, storageRefused: false });
    expect(plain.hostConfig.Runtime).toBeUndefined();
    expect(plain.report.runtime).toBeUndefined();
  });

  it('refuses a runtime the engine has not registered, saying how to register gVisor', () => {
    expect(() => checkRuntime('runsc', facts)).toThrow(
      expect.objectContaining({
        message: '--runtime runsc: the Docker engine has no runtime "runsc" (it has: runc)',
        hint: expect.stringContaining('scripts/setup/gvisor.sh'),
      }),
    );
    expect(() => checkRuntime('runsc', { runtimes: ['runc', 'runsc'] })).not.toThrow();
    expect(() => checkRuntime(undefined, facts)).not.toThrow();
  });

  it('maps cpus, memory (no extra swap), pids and network none, and says storage is not enforced on overlay2/extfs', () => {
    const environment = {
      ...defaultTaskConfig().environment,
      cpus: 1.5,
      memoryMb: 512,
      storageMb: 1024,
      allowInternet: false,
    };
    const plan = planLimits(environment, facts, { pidsLimit: 4096, storageRefused: false });
    expect(plan.hostConfig).toMatchObject({
      NanoCpus: 1_500_000_000,
      Memory: 512 * 1024 * 1024,
      MemorySwap: 512 * 1024 * 1024,
      PidsLimit: 4096,
      NetworkMode: 'none',
    });
    expect(plan.hostConfig.StorageOpt).toBeUndefined();
    expect(plan.report).toMatchObject({
      cpus: 'enforced',
      memory: 'enforced',
      pids: 'enforced',
      network: 'enforced',
      storage: 'not enforced',
    });
    expect(plan.report.notes.join('\n')).toMatch(/storage_mb = 1024.*overlay2.*not enforced/);
  });

  it('asks for a storage limit on overlay2/xfs and reports the refusal after one', () => {
    const environment = { ...defaultTaskConfig().environment, storageMb: 1024 };
    const xfs = { ...facts, backingFilesystem: 'xfs' };
    expect(planLimits(environment, xfs, { pidsLimit: 4096, storageRefused: false }).hostConfig.StorageOpt).toEqual({
      size: '1024M',
    });
    const refused = planLimits(environment, xfs, { pidsLimit: 4096, storageRefused: true });
    expect(refused.hostConfig.StorageOpt).toBeUndefined();
    expect(refused.report.storage).toBe('not enforced');
  });

  it('uses the network mode asked for when the internet is allowed, and clamps cpus to the host', () => {
    const environment = { ...defaultTaskConfig().environment, cpus: 8, allowInternet: true, networkMode: 'host' };
    const plan = planLimits(environment, facts, { pidsLimit: 4096, storageRefused: false });
    expect(plan.hostConfig.NetworkMode).toBe('host');
    expect(plan.hostConfig.NanoCpus).toBe(2e9);
    expect(plan.report.network).toBe('not applicable');
    expect(plan.report.notes.join('\n')).toMatch(/cpus = 8 exceeds/);
    const bridge = planLimits({ ...environment, networkMode: undefined }, facts, {
      pidsLimit: 4096,
      storageRefused: false,
    });
    expect(bridge.hostConfig.NetworkMode).toBe('bridge');
    expect(bridge.report.notes.join('\n')).toMatch(/--iptables=false/);
    const conflicting = planLimits({ ...environment, allowInternet: false }, facts, {
      pidsLimit: 4096,
      storageRefused: false,
    });
    expect(conflicting.hostConfig.NetworkMode).toBe('none');
    expect(conflicting.report.notes.join('\n')).toMatch(/network_mode = "host" ignored/);
  });
});
