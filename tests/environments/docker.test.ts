/** The Docker provider against a real engine (see docker-engine.ts for when this suite runs). */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDocker } from '../../src/environments/cleanup.js';
import { createDockerProvider, type DockerHandle } from '../../src/environments/docker.js';
import type { EnvironmentProvider, PreparedEnvironment, Workspace } from '../../src/environments/types.js';
import { InfraError } from '../../src/errors.js';
import { BASE_IMAGE, dockerReadiness, engineGate, IN_CI, makeTask, quietLog, uniqueId } from './docker-engine.js';

const run = await engineGate('the Docker provider tests (tests/environments/docker.test.ts)');
const docker = new Docker();
const JOB = uniqueId('test-docker');
/** Image tags the tests built, removed at the end. */
const builtTags = new Set<string>();

async function trialContainers(trialId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`skill-eval.trial=${trialId}`] }) });
}

function trial(): { jobId: string; trialId: string; trialName: string } {
  const trialId = randomBytes(6).toString('hex');
  return { jobId: JOB, trialId, trialName: `t-${trialId}` };
}

async function prepareTracked(
  provider: EnvironmentProvider<DockerHandle>,
  ...args: Parameters<EnvironmentProvider<DockerHandle>['prepare']>
): Promise<PreparedEnvironment<DockerHandle>> {
  const prepared = await provider.prepare(...args);
  builtTags.add(prepared.handle.image);
  return prepared;
}

/** The container's `Config.NetworkDisabled` (missing from @types/dockerode's ContainerInspectInfo). */
async function networkDisabled(containerId: string): Promise<boolean> {
  const { Config } = (await docker.getContainer(containerId).inspect()) as unknown as {
    Config: { NetworkDisabled?: boolean };
  };
  return Config.NetworkDisabled === true;
}

/** A Harbor task on the offline base image; `nonce` makes its image new to the engine. */
function simpleTask(nonce: string, toml = '') {
  return makeTask(
    `docker-${nonce}`,
    {
      'environment/Dockerfile': `FROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY app/ /app/\n`,
      'environment/app/hello.txt': `hello ${nonce}\n`,
    },
    `schema_version = "1.1"\n${toml}`,
  );
}

it.runIf(IN_CI)('CI has a Docker engine and the offline base image', async () => {
  const readiness = await dockerReadiness();
  expect(readiness.reason).toBe('');
  expect(readiness.ok).toBe(true);
});

describe.runIf(run)('docker provider (real engine)', () => {
  let provider: EnvironmentProvider<DockerHandle>;
  let prepared: PreparedEnvironment<DockerHandle>;
  let ws: Workspace;

  beforeAll(async () => {
    provider = createDockerProvider({ killGraceMs: 1000 });
    await provider.preflight();
    const task = await simpleTask(
      uniqueId('shared'),
      '[environment]\ncpus = 0.5\nmemory_mb = 256\nallow_internet = false\n',
    );
    prepared = await prepareTracked(provider, task, { jobId: JOB, forceBuild: false, log: quietLog });
    ws = await provider.createWorkspace(prepared, trial());
  });

  afterAll(async () => {
    await ws?.dispose();
    await cleanupDocker({ jobId: JOB, force: true }); // this process owns them: it is alive
    for (const tag of builtTags)
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
  });

  describe('images', () => {
    it('builds a task image once: a second prepare (new provider) only inspects it', async () => {
      const task = await simpleTask(uniqueId('cache'));
      const lines: string[] = [];
      const first = await prepareTracked(createDockerProvider(), task, {
        jobId: JOB,
        forceBuild: false,
        log: (l) => lines.push(l),
      });
      expect(first.built).toBe(true);
      expect(lines.join('\n')).toMatch(/Step 1\/\d+ : FROM skill-eval\/base:bookworm/);
      expect(String(first.handle.image)).toMatch(/^skill-eval\/task-docker-cache-[0-9a-f]+:[0-9a-f]{24}$/);

      const again = await createDockerProvider().prepare(task, { jobId: JOB, forceBuild: false, log: quietLog });
      expect(again.built).toBe(false);
      expect(again.handle.imageId).toBe(first.handle.imageId);

      // Same provider: memoized, no engine work, still not "built" for this caller.
      const memoProvider = createDockerProvider();
      const [a, b] = await Promise.all([
        memoProvider.prepare(task, { jobId: JOB, forceBuild: false, log: quietLog }),
        memoProvider.prepare(task, { jobId: JOB, forceBuild: false, log: quietLog }),
      ]);
      expect([a.built, b.built]).toEqual([false, false]);

      const forced = await createDockerProvider({ forceBuild: true }).prepare(task, {
        jobId: JOB,
        forceBuild: false,
        log: quietLog,
      });
      expect(forced.built).toBe(true);
    });

    it('builds legacy tasks from the task root without tests/ and solution/', async () => {
      const task = await makeTask(
        uniqueId('legacy'),
        {
          'environment/Dockerfile': `FROM ${BASE_IMAGE}\nCOPY environment/app /app\nCOPY . /ctx\n`,
          'environment/app/main.txt': 'legacy\n',
        },
        'version = "1.0"\n',
      );
      const p = createDockerProvider();
      const prep = await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog });
      expect(prep.notes.join('\n')).toMatch(/legacy build context/);
      const w = await p.createWorkspace(prep, trial());
      try {
        const result = await w.exec('cat /app/main.txt; ls /ctx; ls /ctx/tests /ctx/solution 2>&1 || echo absent');
        expect(result.stdout).toMatch(/^legacy\n/);
        expect(result.stdout).toMatch(/instruction\.md/);
        expect(result.stdout).toMatch(/absent/);
        expect(w.paths.workdir).toBe('/app'); // no WORKDIR in the image: /app
      } finally {
        await w.dispose();
      }
    });

    it('fails a broken build with an InfraError quoting its last lines', async () => {
      const task = await makeTask(uniqueId('broken'), {
        'environment/Dockerfile': `FROM ${BASE_IMAGE}\nRUN echo boom-marker-line && exit 7\n`,
      });
      const error = await createDockerProvider()
        .prepare(task, { jobId: JOB, forceBuild: false, log: quietLog })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfraError);
      expect((error as Error).message).toMatch(/boom-marker-line/);
      expect((error as Error).message).toMatch(/returned a non-zero code: 7/);
    });

    it('aborts a build that exceeds build_timeout_sec', async () => {
      const task = await makeTask(
        uniqueId('slow'),
        { 'environment/Dockerfile': `FROM ${BASE_IMAGE}\nRUN sleep 120\n` },
        'schema_version = "1.1"\n[environment]\nbuild_timeout_sec = 2\n',
      );
      const started = Date.now();
      const error = await createDockerProvider()
        .prepare(task, { jobId: JOB, forceBuild: false, log: quietLog })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfraError);
      expect((error as Error).message).toMatch(/exceeded build_timeout_sec \(2 s\)/);
      expect(Date.now() - started).toBeLessThan(30_000);
    });

    it('uses [environment].docker_image as is, and says to build or load a missing one', async () => {
      const task = await makeTask(
        uniqueId('prebuilt'),
        {},
        `schema_version = "1.1"\n[environment]\ndocker_image = "${BASE_IMAGE}"\n`,
      );
      const p = createDockerProvider();
      const prep = await p.prepare(task, { jobId: JOB, forceBuild: false, log: quietLog });
      expect(prep.built).toBe(false);
      expect(prep.handle.image).toBe(BASE_IMAGE);
      // Not built here, so the Harbor directories are created per trial: world-writable all the same.
      const w = await p.createWorkspace(prep, trial());
      try {
        const result = await w.exec(
          'stat -c %a /logs/agent /logs/verifier /logs/artifacts; echo x > /logs/agent/x && echo wrote',
          { user: 'nobody' },
        );
        expect(result.stdout).toBe('777\n777\n777\nwrote\n');
      } finally {
        await w.dispose();
      }

      const missing = await makeTask(
        uniqueId('missing'),
        {},
        'schema_version = "1.1"\n[environment]\ndocker_image = "skill-eval/does-not-exist:1"\n',
      );
      const error = await createDockerProvider()
        .prepare(missing, { jobId: JOB, forceBuild: false, log: quietLog })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfraError);
      expect((error as InfraError).message).toMatch(/skill-eval\/does-not-exist:1.*not in the Docker engine/);
      expect((error as InfraError).hint).toMatch(/build it .* or load it/);
    });

    it('bakes extra layers into a derived image once and reuses it', async () => {
      const task = await simpleTask(uniqueId('layer'));
      const layers = [
        {
          key: 'tool-1',
          dockerfileLines: ['COPY tool.sh /usr/local/bin/tool'],
          files: { 'tool.sh': { content: '#!/bin/sh\necho layered-tool\n', mode: 0o755 } },
        },
      ];
      const p = createDockerProvider();
      const prep = await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog, layers });
      expect(prep.built).toBe(true);
      expect(String(prep.handle.image)).toMatch(/:[0-9a-f]{24}-tool-1$/);
      const w = await p.createWorkspace(prep, trial());
      try {
        expect((await w.exec('tool')).stdout).toBe('layered-tool\n');
      } finally {
        await w.dispose();
      }
      const again = await createDockerProvider().prepare(task, {
        jobId: JOB,
        forceBuild: false,
        log: quietLog,
        layers,
      });
      expect(again.built).toBe(false);
      expect(again.handle.imageId).toBe(prep.handle.imageId);
      builtTags.add(String(prep.handle.image).replace(/-tool-1$/, ''));
    });
  });

  describe('exec', () => {
    it('keeps stdout and stderr apart and returns real exit codes', async () => {
      const result = await ws.exec('echo out; echo err >&2; exit 3');
      expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false, aborted: false });
      expect((await ws.exec('true')).exitCode).toBe(0);
      expect((await ws.exec('kill -9 $$')).exitCode).toBe(137);
    });

    it('runs in the workdir by default, in cwd when given, with extra env, as the given user', async () => {
      expect((await ws.exec('pwd; cat hello.txt')).stdout).toMatch(/^\/app\nhello /);
      expect((await ws.exec('pwd', { cwd: '/tmp' })).stdout).toBe('/tmp\n');
      expect((await ws.exec('echo "$GREETING"', { env: { GREETING: 'hi there' } })).stdout).toBe('hi there\n');
      expect((await ws.exec('id -u', { user: 'nobody' })).stdout).toBe('65534\n');
      expect(ws.paths.home).toBe('/root');
    });

    it('closes stdin unless input is given, which it delivers', async () => {
      expect(await ws.exec('cat; echo end')).toMatchObject({ exitCode: 0, stdout: 'end\n' });
      expect((await ws.exec('tr a-z A-Z', { stdin: 'shout\n' })).stdout).toBe('SHOUT\n');
    });

    it('streams output live and keeps multi-byte characters whole', async () => {
      const chunks: string[] = [];
      const result = await ws.exec('printf "héllo ✓\\n"; echo done >&2', { onStdout: (c) => chunks.push(c) });
      expect(chunks.join('')).toBe('héllo ✓\n');
      expect(result.stderr).toBe('done\n');
    });

    it('on timeout kills the whole process group and returns timedOut within a bound', async () => {
      const started = Date.now();
      const result = await ws.exec('sleep 301 & sleep 302 & echo started; wait', { timeoutMs: 800 });
      const elapsed = Date.now() - started;
      expect(result.timedOut).toBe(true);
      expect(result.exitCode).toBeUndefined();
      expect(result.stdout).toBe('started\n');
      expect(elapsed).toBeLessThan(800 + 1000 + 3000 + 2000);
      const left = await ws.exec('ps -eo args | grep -c "^sleep 30[12]" || true');
      expect(left.stdout.trim()).toBe('0');
    });

    it('kills a command that ignores SIGTERM with SIGKILL after the grace period', async () => {
      const started = Date.now();
      const result = await ws.exec('trap "" TERM; while :; do sleep 0.1; done', { timeoutMs: 300 });
      expect(result.timedOut).toBe(true);
      expect(Date.now() - started).toBeLessThan(300 + 1000 + 3000 + 2000);
    });

    it('stops on abort', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const result = await ws.exec('sleep 60', { signal: controller.signal });
      expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: undefined });
    });

    it('stopAll ends background processes (also those that left their session) and keeps the container', async () => {
      await ws.exec('nohup sleep 401 >/dev/null 2>&1 & setsid sleep 402 >/dev/null 2>&1 & echo ok');
      expect((await ws.exec('ps -eo args | grep -c "^sleep 40[12]"')).stdout.trim()).toBe('2');
      await ws.stopAll();
      expect((await ws.exec('ps -eo args | grep -c "^sleep 40[12]" || true')).stdout.trim()).toBe('0');
    });
  });

  describe('files', () => {
    it('uploads a directory and downloads it back unchanged (modes, nesting, symlinks)', async () => {
      const host = await mkdtemp(join(tmpdir(), 'skill-eval-docker-files-'));
      await mkdir(join(host, 'in', 'nested'), { recursive: true });
      await writeFile(join(host, 'in', 'a.txt'), 'alpha\n');
      await writeFile(join(host, 'in', 'nested', 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
      await symlink('a.txt', join(host, 'in', 'link'));
      await ws.upload(join(host, 'in'), '/data/deep/in');
      expect(
        (await ws.exec('cat /data/deep/in/a.txt; /data/deep/in/nested/run.sh; readlink /data/deep/in/link')).stdout,
      ).toBe('alpha\nran\na.txt\n');

      await ws.exec('echo made-inside > /data/deep/in/new.txt');
      expect(await ws.download('/data/deep/in', join(host, 'out'))).toBe(true);
      expect(await readFile(join(host, 'out', 'a.txt'), 'utf8')).toBe('alpha\n');
      expect(await readFile(join(host, 'out', 'new.txt'), 'utf8')).toBe('made-inside\n');
      expect((await lstat(join(host, 'out', 'nested', 'run.sh'))).mode & 0o777).toBe(0o755);
      expect(await readlink(join(host, 'out', 'link'))).toBe('a.txt');

      await ws.upload(join(host, 'in', 'a.txt'), '/data/single/renamed.txt');
      expect((await ws.readFile('/data/single/renamed.txt'))?.toString()).toBe('alpha\n');
      expect(await ws.download('/data/single/renamed.txt', join(host, 'one.txt'))).toBe(true);
      expect(await readFile(join(host, 'one.txt'), 'utf8')).toBe('alpha\n');
    });

    it('writes and reads files; missing paths and directories read as undefined', async () => {
      await ws.writeFile('/data/w/script.sh', '#!/bin/sh\necho written\n', 0o755);
      expect((await ws.exec('/data/w/script.sh')).stdout).toBe('written\n');
      await ws.writeFile('/data/w/bytes.bin', new Uint8Array([0, 1, 2, 255]));
      expect([...((await ws.readFile('/data/w/bytes.bin')) ?? [])]).toEqual([0, 1, 2, 255]);
      expect(await ws.readFile('/data/w/missing')).toBeUndefined();
      expect(await ws.readFile('/data/w')).toBeUndefined();
      expect(await ws.download('/data/nope', join(tmpdir(), 'never'))).toBe(false);
      await ws.exec('ln -sf /data/w/script.sh /data/w/via-link');
      expect((await ws.readFile('/data/w/via-link'))?.toString()).toMatch(/echo written/);
    });

    it('removes paths and has the Harbor directories from the start', async () => {
      expect((await ws.exec('stat -c %a /logs/agent /logs/verifier /logs/artifacts')).stdout).toBe('777\n777\n777\n');
      await ws.writeFile('/data/gone/x', 'x');
      await ws.remove('/data/gone');
      expect((await ws.exec('test -e /data/gone && echo still || echo removed')).stdout).toBe('removed\n');
    });
  });

  describe('limits and network', () => {
    it('applies cpus, memory (no extra swap) and pids, visible from inside the container', async () => {
      const script = [
        'if [ -f /sys/fs/cgroup/cpu.max ]; then',
        '  echo "cpu $(cat /sys/fs/cgroup/cpu.max)"; echo "mem $(cat /sys/fs/cgroup/memory.max)"; echo "pids $(cat /sys/fs/cgroup/pids.max)"',
        'else',
        '  echo "cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"',
        '  echo "mem $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; echo "pids $(cat /sys/fs/cgroup/pids/pids.max)"',
        'fi',
      ].join('\n');
      const result = await ws.exec(script);
      expect(result.stdout).toMatch(/^cpu 50000 100000$/m);
      expect(result.stdout).toMatch(new RegExp(`^mem ${256 * 1024 * 1024}$`, 'm'));
      expect(result.stdout).toMatch(/^pids 4096$/m);
      expect(ws.limits).toMatchObject({ cpus: 'enforced', memory: 'enforced', pids: 'enforced', network: 'enforced' });
      expect(['enforced', 'not enforced']).toContain(ws.limits.storage);
      if (ws.limits.storage === 'not enforced') expect(ws.limits.notes.join('\n')).toMatch(/storage_mb/);
      const info = await docker.getContainer(ws.id).inspect();
      expect(info.HostConfig.MemorySwap === info.HostConfig.Memory || ws.limits.notes.some((n) => /swap/.test(n))).toBe(
        true,
      );
    });

    it('has no network when allow_internet = false, and the bridge otherwise', async () => {
      expect((await ws.exec('ls /sys/class/net')).stdout.trim()).toBe('lo');
      // Without the engine's network sandbox (root PID 1): loopback is up (a closed port refuses; a down
      // interface would be unreachable) and localhost has a name, as under `--network none`.
      expect(await networkDisabled(ws.id)).toBe(true);
      const probe = await ws.exec(
        'cat /sys/class/net/lo/flags; getent hosts localhost; (exec 3<>/dev/tcp/localhost/1) 2>&1',
      );
      expect(Number.parseInt(probe.stdout.split('\n')[0]!, 16) & 1).toBe(1);
      expect(probe.stdout).toMatch(/^(127\.0\.0\.1|::1)\s+localhost/m);
      expect(probe.stdout).toMatch(/Connection refused/);
      const task = await simpleTask(uniqueId('net'), '[environment]\nallow_internet = true\n');
      const p = createDockerProvider();
      const w = await p.createWorkspace(
        await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog }),
        trial(),
      );
      try {
        expect((await w.exec('ls /sys/class/net')).stdout).toMatch(/eth0/);
        expect(w.limits.network).toBe('not applicable');
      } finally {
        await w.dispose();
      }
    });

    it("keeps the engine's network sandbox for an offline container whose PID 1 is not root", async () => {
      const task = await makeTask(
        `docker-${uniqueId('nonroot-net')}`,
        {
          'environment/Dockerfile': `FROM ${BASE_IMAGE}\nWORKDIR /app\nUSER nobody\n`,
        },
        'schema_version = "1.1"\n[environment]\nallow_internet = false\n',
      );
      const p = createDockerProvider();
      const w = await p.createWorkspace(
        await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog }),
        trial(),
      );
      try {
        expect(await networkDisabled(w.id)).toBe(false);
        const probe = await w.exec('ls /sys/class/net; getent hosts localhost');
        expect(probe.stdout).toMatch(/^lo$/m);
        expect(probe.stdout).toMatch(/localhost/);
        expect(probe.stdout).not.toMatch(/eth0/);
      } finally {
        await w.dispose();
      }
    });

    it('can take the verifier offline in stopAll', async () => {
      const task = await simpleTask(uniqueId('offline'), '[environment]\nallow_internet = true\n');
      const p = createDockerProvider({ verifierOffline: true });
      const w = await p.createWorkspace(
        await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog }),
        trial(),
      );
      try {
        await w.stopAll();
        expect((await w.exec('ls /sys/class/net')).stdout.trim()).toBe('lo');
        expect(w.limits.notes.join('\n')).toMatch(/verifier ran offline/);
      } finally {
        await w.dispose();
      }
    });
  });

  describe('verification', () => {
    async function verifyWith(
      w: Workspace,
      testSh: string,
      options: { user?: string; owner?: string; timeoutMs?: number } = {},
    ) {
      const host = await mkdtemp(join(tmpdir(), 'skill-eval-verify-'));
      await mkdir(join(host, 'tests'));
      await writeFile(join(host, 'tests/test.sh'), testSh, { mode: 0o755 });
      const collected = join(host, 'trial');
      await mkdir(collected);
      const outcome = await w.verify!({
        remove: ['/solution', '/logs/verifier', '/tests'],
        logsDir: '/logs/verifier',
        owner: options.owner,
        testsHostDir: join(host, 'tests'),
        testsPath: '/tests',
        command: 'bash /tests/test.sh',
        options: { user: options.user, timeoutMs: options.timeoutMs ?? 20_000, env: { GREETING: 'hi' } },
        collect: [
          { from: '/logs/agent', to: join(collected, 'agent') },
          { from: '/logs/verifier', to: join(collected, 'verifier') },
          { from: '/logs/artifacts', to: join(collected, 'artifacts') },
        ],
        staging: join(collected, '.staging'),
      });
      return { ...outcome, collected };
    }

    it('stops the agent, clears what it planted, copies the tests in only then, runs them as root and copies the logs out', async () => {
      const w = await provider.createWorkspace(prepared, trial());
      try {
        await w.exec(
          'mkdir -p /tests /solution && echo fake > /tests/test.sh && echo 1 > /logs/verifier/reward.txt && echo note > /logs/agent/agent.log',
        );
        // Links the agent left in its logs: one that means the same on the host, one that would point into the host.
        await w.exec(
          'echo made > /logs/artifacts/made.txt && ln -s made.txt /logs/artifacts/same.txt && ln -s /app/out.txt /logs/artifacts/elsewhere.txt',
        );
        // And a fake verifier output where the real one will go.
        await w.exec(
          'mkdir -p /tmp/.skill-eval-verify && echo planted > /tmp/.skill-eval-verify/stdout && chmod 0555 /tmp/.skill-eval-verify',
        );
        await w.exec('(while :; do echo 1 > /logs/verifier/reward.txt; sleep 0.05; done) >/dev/null 2>&1 &');
        const { result, collected, skipped } = await verifyWith(
          w,
          'echo "out $GREETING"; echo err >&2; id -u; cat /tests/test.sh | head -c 4; echo; cat /logs/verifier/reward.txt 2>/dev/null || echo no-reward; echo 0.5 > /logs/verifier/reward.txt; exit 3\n',
        );
        expect(await readlink(join(collected, 'artifacts/same.txt'))).toBe('made.txt');
        expect(skipped).toEqual([
          '/logs/artifacts/elsewhere.txt → /app/out.txt: a symbolic link out of /logs/artifacts',
        ]);
        expect((await readdir(collected)).sort()).toEqual(['agent', 'artifacts', 'verifier']);
        expect(result.exitCode).toBe(3);
        expect(result.timedOut).toBe(false);
        expect(result.stdout).toBe('out hi\n0\necho\nno-reward\n');
        expect(result.stderr).toBe('err\n');
        expect(await readFile(join(collected, 'verifier/reward.txt'), 'utf8')).toBe('0.5\n');
        expect(await readFile(join(collected, 'agent/agent.log'), 'utf8')).toBe('note\n');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await w.exec('cat /logs/verifier/reward.txt')).stdout).toBe('0.5\n'); // the agent's loop is gone
      } finally {
        await w.dispose();
      }
    });

    it('fails a preparation step as an infrastructure error that quotes the step and what the command printed', async () => {
      const w = await provider.createWorkspace(prepared, trial());
      try {
        const failure = await verifyWith(w, 'echo 1 > /logs/verifier/reward.txt\n', { owner: 'no-such-user' }).catch(
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(InfraError);
        expect((failure as Error).message).toMatch(
          /^preparing the verifier failed: chown no-such-user \/logs\/verifier: chown: invalid user: .no-such-user.$/,
        );
      } finally {
        await w.dispose();
      }
    });

    it('places uploads when asked, owned by root with their modes, readable by a non-root command', async () => {
      const w = await provider.createWorkspace(prepared, trial());
      try {
        const host = await mkdtemp(join(tmpdir(), 'skill-eval-ride-'));
        await mkdir(join(host, 'dir/sub'), { recursive: true });
        await writeFile(join(host, 'dir/sub/run.sh'), 'echo from-upload\n', { mode: 0o750 });
        await w.upload(join(host, 'dir'), '/opt/uploaded');
        await w.writeFile('/opt/note.txt', 'note\n');
        const asRoot = await w.exec(
          'bash /opt/uploaded/sub/run.sh; stat -c "%a %U" /opt/uploaded/sub/run.sh; cat /opt/note.txt; cat',
        );
        expect(asRoot.exitCode).toBe(0);
        expect(asRoot.stdout).toBe('from-upload\n750 root\nnote\n'); // and the command's stdin is empty
        await w.writeFile('/tmp/for-nobody.txt', 'readable\n', 0o644);
        const asNobody = await w.exec('cat /tmp/for-nobody.txt; stat -c %U /tmp/for-nobody.txt', { user: 'nobody' });
        expect(asNobody.stdout).toBe('readable\nroot\n');
        await expect(w.upload(join(host, 'missing'), '/opt/x')).rejects.toThrow(/cannot upload .*missing/);
      } finally {
        await w.dispose();
      }
    });

    it('still copies the logs out when the verifier times out', async () => {
      const w = await provider.createWorkspace(prepared, trial());
      try {
        const started = Date.now();
        const { result, collected } = await verifyWith(
          w,
          'echo partial > /logs/verifier/partial.txt; echo started; sleep 60\n',
          { timeoutMs: 1000 },
        );
        expect(result.timedOut).toBe(true);
        expect(result.exitCode).toBeUndefined();
        expect(result.stdout).toBe('started\n');
        expect(await readFile(join(collected, 'verifier/partial.txt'), 'utf8')).toBe('partial\n');
        expect(Date.now() - started).toBeLessThan(15_000);
      } finally {
        await w.dispose();
      }
    });

    it('needs tar in the image to verify (uploads and commands work without it), and runs as the verifier user when one is set', async () => {
      const task = await makeTask(
        uniqueId('notar'),
        {
          'environment/Dockerfile': `FROM ${BASE_IMAGE}\nRUN rm -f /usr/bin/tar /bin/tar\nWORKDIR /app\n`,
        },
        'schema_version = "1.1"\n',
      );
      const p = createDockerProvider({ killGraceMs: 1000 });
      const withoutTar = await p.createWorkspace(
        await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog }),
        trial(),
      );
      try {
        // Uploads go through the archive API: no tar needed in the image.
        const host = await mkdtemp(join(tmpdir(), 'skill-eval-notar-'));
        await writeFile(join(host, 'note.txt'), 'uploaded\n');
        await withoutTar.upload(join(host, 'note.txt'), '/app/note.txt');
        await withoutTar.writeFile('/app/counter.sh', 'echo ran >> /app/runs.txt\n', 0o755);
        expect((await withoutTar.exec('/app/counter.sh; cat /app/note.txt /app/runs.txt')).stdout).toBe(
          'uploaded\nran\n',
        );
        expect((await withoutTar.exec('command -v tar || echo none')).stdout).toBe('none\n');
        const failure = await verifyWith(withoutTar, 'echo 1 > /logs/verifier/reward.txt\n').catch(
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(InfraError);
        expect((failure as Error).message).toMatch(/^preparing the verifier failed: the image has no tar/);
      } finally {
        await withoutTar.dispose();
      }
      const w = await provider.createWorkspace(prepared, trial());
      try {
        await w.exec('ln -s /etc/passwd /logs/agent/passwd && echo kept > /logs/agent/kept.txt');
        const { result, collected, skipped } = await verifyWith(
          w,
          'id -u; echo "$GREETING"; echo 1 > /logs/verifier/reward.txt\n',
          { user: 'nobody', owner: 'nobody' },
        );
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toBe('65534\nhi\n');
        expect(await readFile(join(collected, 'verifier/reward.txt'), 'utf8')).toBe('1\n');
        expect(await readFile(join(collected, 'agent/kept.txt'), 'utf8')).toBe('kept\n');
        expect(skipped).toEqual(['/logs/agent/passwd → /etc/passwd: a symbolic link out of /logs/agent']);
      } finally {
        await w.dispose();
      }
    });
  });

  describe('users', () => {
    it("uses [agent].user's home", async () => {
      const task = await makeTask(
        uniqueId('user'),
        {
          'environment/Dockerfile': `FROM ${BASE_IMAGE}\nRUN useradd -m -u 1234 agent\nWORKDIR /app\n`,
        },
        'schema_version = "1.1"\n[agent]\nuser = "agent"\n',
      );
      const p = createDockerProvider();
      const w = await p.createWorkspace(
        await prepareTracked(p, task, { jobId: JOB, forceBuild: false, log: quietLog }),
        trial(),
      );
      try {
        expect(w.paths.home).toBe('/home/agent');
        const result = await w.exec('id -u; echo $HOME; echo log > /logs/agent/a.txt && echo wrote', { user: 'agent' });
        expect(result.stdout).toBe('1234\n/home/agent\nwrote\n');
      } finally {
        await w.dispose();
      }
    });
  });

  describe('lifetime', () => {
    it('dispose removes the container (none left with the trial label), twice without throwing', async () => {
      const t = trial();
      const w = await provider.createWorkspace(prepared, t);
      await w.exec('sleep 1000 >/dev/null 2>&1 &');
      expect(await trialContainers(t.trialId)).toHaveLength(1);
      await w.dispose();
      await w.dispose();
      expect(await trialContainers(t.trialId)).toHaveLength(0);
      await expect(w.exec('true')).rejects.toBeInstanceOf(InfraError);
    });

    it('an exec whose container disappears ends with an unknown exit code, never 0', async () => {
      const t = trial();
      const w = await provider.createWorkspace(prepared, t);
      const pending = w.exec('sleep 30; exit 0');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await docker.getContainer((await trialContainers(t.trialId))[0]!.Id).remove({ force: true });
      const result = await pending;
      expect(result.exitCode).toBeUndefined();
      await w.dispose(); // already gone: still fine
    });

    it('labels every container and names it after job and trial', async () => {
      const t = trial();
      const w = await provider.createWorkspace(prepared, t);
      try {
        const [info] = await trialContainers(t.trialId);
        expect(info?.Names[0]).toBe(`/skill-eval-${JOB}-${t.trialId}`);
        expect(info?.Labels).toMatchObject({
          'skill-eval': '1',
          'skill-eval.job': JOB,
          'skill-eval.trial': t.trialId,
          'skill-eval.task': prepared.task.name,
        });
      } finally {
        await w.dispose();
      }
    });

    it('preflight says what to do when no engine answers', async () => {
      const p = createDockerProvider({ docker: new Docker({ socketPath: join(tmpdir(), 'no-such-docker.sock') }) });
      const error = await p.preflight().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InfraError);
      expect((error as InfraError).hint).toMatch(/scripts\/setup\/docker\.sh/);
    });
  });
});
