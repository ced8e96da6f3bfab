import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSandbox } from '../../src/environments/local/sandbox.js';
import { createLocalProvider } from '../../src/environments/local.js';
import type { EnvironmentProvider, Workspace } from '../../src/environments/types.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { REPO_ROOT, tempDir } from '../helpers/trials.js';

/** The local provider's bubblewrap sandbox (needs bwrap: scripts/setup/bubblewrap.sh). */

function pgrep(marker: string): string {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function makeTask(taskToml = 'schema_version = "1.1"\n'): Promise<string> {
  const dir = join(await tempDir('sandbox-task'), 'sandbox-task');
  await mkdir(join(dir, 'tests'), { recursive: true });
  await mkdir(join(dir, 'environment'), { recursive: true });
  await writeFile(join(dir, 'task.toml'), taskToml);
  await writeFile(join(dir, 'instruction.md'), 'Do it.\n');
  await writeFile(join(dir, 'tests', 'test.sh'), '#!/usr/bin/env bash\necho 1 > /logs/verifier/reward.txt\n');
  await writeFile(join(dir, 'environment', 'Dockerfile'), 'FROM x\nWORKDIR /app\n');
  return dir;
}

async function workspace(provider: EnvironmentProvider, taskDir: string, name: string): Promise<Workspace> {
  const task = await loadTaskOrThrow(taskDir);
  const prepared = await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined });
  return provider.createWorkspace(prepared, { jobId: 'j', trialId: name, trialName: name });
}

const OFFLINE_TOML = 'schema_version = "1.1"\n[environment]\nallow_internet = false\n';

describe('local provider sandbox (bubblewrap)', () => {
  beforeAll(() => {
    // Not a skip: without bwrap these guarantees do not hold, and the suite must say so.
    expect(probeSandbox(), 'bubblewrap must work here: bash scripts/setup/bubblewrap.sh').toMatchObject({
      available: true,
    });
  });

  it('kills a setsid daemon the agent started before the verifier runs, and leaves nothing after dispose', async () => {
    const provider = createLocalProvider();
    const ws = await workspace(provider, await makeTask(), 'daemon');
    const marker = `skill-eval-sandbox-daemon-${process.pid}`;
    try {
      expect(ws.limits.sandbox).toBe('enforced');
      // The marker reaches the commands in a variable: no command line but the daemons' own holds it.
      const env = { MARK: marker };
      const agent = await ws.exec(
        `setsid -f bash -c 'exec -a "$MARK-setsid" sleep 300' </dev/null >/dev/null 2>&1; (nohup bash -c 'exec -a "$MARK-nohup" sleep 300' &); for i in $(seq 200); do [ "$(pgrep -cf "$MARK")" = 2 ] && break; sleep 0.05; done; pgrep -cf "$MARK"`,
        { env },
      );
      // Alive while the agent's command runs…
      expect(agent.stdout.trim()).toBe('2');
      // …and gone once it returns: nothing is left for the verifier to meet.
      expect(pgrep(marker)).toBe('');
      const verifier = await ws.exec('pgrep -f "$MARK" || echo none', { env });
      expect(verifier.stdout.trim()).toBe('none');
      const stopped = await ws.exec(
        `setsid -f bash -c 'exec -a "$MARK-late" sleep 300' </dev/null >/dev/null 2>&1; sleep 300`,
        { env, timeoutMs: 1_000 },
      );
      expect(stopped.timedOut).toBe(true);
    } finally {
      await ws.dispose();
    }
    expect(pgrep(marker)).toBe('');
  });

  it("shows nothing of the host's home, other trials or the task directory", async () => {
    const markerFile = join(homedir(), `.skill-eval-test-marker-${process.pid}`);
    const secret = `host-secret-${process.pid}`;
    await writeFile(markerFile, `${secret}\n`);
    const provider = createLocalProvider();
    const taskDir = await makeTask();
    const ws = await workspace(provider, taskDir, 'home');
    const other = await workspace(provider, taskDir, 'other');
    try {
      const probe = await ws.exec(
        [
          'cat ~/.ssh/* 2>&1',
          `ls -a ${homedir()} 2>&1`,
          `cat ${markerFile} 2>/dev/null`,
          `ls ${join(other.paths.workdir, '..')} 2>&1`,
          `ls ${taskDir} 2>&1`,
          `ls ${REPO_ROOT} 2>&1`,
          'echo done',
        ].join('; '),
      );
      expect(probe.stdout).toContain('done');
      expect(probe.stdout).not.toContain(secret);
      expect(probe.stdout).not.toContain('.skill-eval-test-marker');
      expect(probe.stdout).not.toContain('package.json');
      expect(probe.stdout).not.toContain('instruction.md');
      // Its own trial root is there, read-write, at the same path as on the host.
      const own = await ws.exec('echo made > /app/made.txt && cat "$HOME/../app/made.txt"');
      expect(own.stdout).toBe('made\n');
      expect((await ws.readFile('/app/made.txt'))?.toString()).toBe('made\n');
      // The toolchain is read-only.
      const write = await ws.exec('touch /usr/bin/skill-eval-planted 2>&1 || echo refused');
      expect(write.stdout).toMatch(/refused/);
      expect(existsSync('/usr/bin/skill-eval-planted')).toBe(false);
    } finally {
      await ws.dispose();
      await other.dispose();
      await rm(markerFile, { force: true });
    }
  });

  it('hides what other users may not read in the toolchain (/etc/shadow and the like), also from root', async () => {
    const secretFile = `/etc/skill-eval-test-secret-${process.pid}`;
    const secret = `etc-secret-${process.pid}`;
    await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
    const taskDir = await makeTask();
    // A fresh process: the toolchain's mounts are worked out once per process.
    const script = `
      import { createLocalProvider } from './src/environments/local.js';
      import { loadTaskOrThrow } from './src/task/load.js';
      const provider = createLocalProvider();
      const task = await loadTaskOrThrow(${JSON.stringify(taskDir)});
      const prepared = await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined });
      const ws = await provider.createWorkspace(prepared, { jobId: 'j', trialId: 't', trialName: 'etc' });
      const run = await ws.exec('cat ${secretFile} 2>&1; cat /etc/passwd | head -1');
      console.log(JSON.stringify(run.stdout));
      await ws.dispose();
    `;
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
      const stdout = JSON.parse(out.trim().split('\n').at(-1)!) as string;
      expect(stdout).toMatch(/^root:/m);
      expect(stdout).not.toContain(secret);
    } finally {
      await rm(secretFile, { force: true });
    }
  });

  describe('network', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((socket) => socket.on('error', () => undefined).end('host-server\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const reach = (p: number): string =>
      `if (exec 3<>/dev/tcp/127.0.0.1/${p}) 2>/dev/null; then echo reached; else echo blocked; fi`;
    // A server and a client on the sandbox's own loopback.
    const loopback = `node -e "const n=require('node:net');const s=n.createServer(c=>c.end('in'));s.listen(0,'127.0.0.1',()=>n.connect(s.address().port,'127.0.0.1').on('data',d=>{console.log('loopback '+d);process.exit(0)}))"`;

    it("an offline task cannot reach a server on the host's loopback, while its own loopback works", async () => {
      const ws = await workspace(createLocalProvider(), await makeTask(OFFLINE_TOML), 'offline');
      try {
        expect(ws.limits.network).toBe('enforced');
        expect((await ws.exec(reach(port))).stdout).toBe('blocked\n');
        expect((await ws.exec(loopback)).stdout).toBe('loopback in\n');
      } finally {
        await ws.dispose();
      }
    });

    it('a task with internet shares the host network (the same probe reaches the server)', async () => {
      const ws = await workspace(createLocalProvider(), await makeTask(), 'online');
      try {
        expect((await ws.exec(reach(port))).stdout).toBe('reached\n');
      } finally {
        await ws.dispose();
      }
    });

    it("an agent CLI keeps the host's network on an offline task (its model API), and the limits say so", async () => {
      const ws = await workspace(createLocalProvider(), await makeTask(OFFLINE_TOML), 'agent-network');
      try {
        // runCli (src/agents/cli/run.ts) marks the agent CLI's command as one that calls a model API.
        expect((await ws.exec(reach(port), { callsModelApi: true })).stdout).toBe('reached\n');
        expect(ws.limits.network).toBe('not enforced');
        expect(ws.limits.notes.join('\n')).toMatch(
          /agent CLI ran with the host's network although allow_internet = false/,
        );
        expect((await ws.exec(reach(port))).stdout).toBe('blocked\n');
      } finally {
        await ws.dispose();
      }
    });
  });

  it('collects logs without links out of their directory (nor FIFOs), and notes each as skipped', async () => {
    const ws = await workspace(createLocalProvider(), await makeTask(), 'links');
    const trialDir = await tempDir('sandbox-links');
    try {
      await ws.exec(
        [
          'cd /logs/artifacts',
          'echo inner > inner.txt',
          'ln -s inner.txt ok',
          'ln -s /etc/passwd abs',
          'ln -s "$SKILL_EVAL_ROOT/app" root-link',
          'ln -s ../../app up',
          'mkdir sub && ln -s ../inner.txt sub/ok-up',
          'mkfifo pipe',
        ].join(' && '),
      );
      const outcome = await ws.verify!({
        remove: ['/logs/verifier'],
        logsDir: '/logs/verifier',
        testsHostDir: join(await makeTask(), 'tests'),
        testsPath: '/tests',
        command: 'bash /tests/test.sh',
        options: {},
        collect: [{ from: ws.paths.logsArtifacts, to: join(trialDir, 'artifacts') }],
        staging: join(trialDir, 'staging'),
      });
      expect(outcome.result.exitCode).toBe(0);
      const artifacts = join(trialDir, 'artifacts');
      expect((await readdir(artifacts)).sort()).toEqual(['inner.txt', 'ok', 'sub']);
      expect(await readlink(join(artifacts, 'ok'))).toBe('inner.txt');
      expect(lstatSync(join(artifacts, 'sub', 'ok-up')).isSymbolicLink()).toBe(true);
      const skipped = (outcome.skipped ?? []).join('\n');
      expect(skipped).toContain('/logs/artifacts/abs → /etc/passwd: a symbolic link out of /logs/artifacts');
      expect(skipped).toMatch(/\/logs\/artifacts\/root-link → \S+\/app: a symbolic link out of/);
      expect(skipped).toContain('/logs/artifacts/up → ../../app');
      expect(skipped).toContain('/logs/artifacts/pipe: not a regular file');
    } finally {
      await ws.dispose();
    }
  });

  it('a collected directory that is itself a link is left out', async () => {
    const ws = await workspace(createLocalProvider(), await makeTask(), 'dirlink');
    const trialDir = await tempDir('sandbox-dirlink');
    try {
      await rm(ws.paths.logsArtifacts, { recursive: true });
      await symlink('/etc', ws.paths.logsArtifacts);
      const outcome = await ws.verify!({
        remove: ['/logs/verifier'],
        logsDir: '/logs/verifier',
        testsHostDir: join(await makeTask(), 'tests'),
        testsPath: '/tests',
        command: 'bash /tests/test.sh',
        options: {},
        collect: [{ from: ws.paths.logsArtifacts, to: join(trialDir, 'artifacts') }],
        staging: join(trialDir, 'staging'),
      });
      expect(existsSync(join(trialDir, 'artifacts'))).toBe(false);
      expect(outcome.skipped?.join('\n')).toContain(
        '/logs/artifacts → /etc: a symbolic link in place of the directory',
      );
    } finally {
      await ws.dispose();
    }
  });

  it("nothing the trial started survives skill-eval's own SIGKILL", async () => {
    const baseDir = await tempDir('sandbox-crash');
    const marker = `skill-eval-sandbox-crash-${process.pid}`;
    const command = `setsid -f bash -c 'exec -a "$MARK-setsid" sleep 300' </dev/null >/dev/null 2>&1; exec -a "$MARK" sleep 300`;
    const script = `
      import { createLocalProvider } from './src/environments/local.js';
      import { loadTaskOrThrow } from './src/task/load.js';
      const provider = createLocalProvider({ baseDir: ${JSON.stringify(baseDir)} });
      const task = await loadTaskOrThrow('tests/fixtures/check/healthy');
      const ws = await provider.createWorkspace(await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => {} }), { jobId: 'j', trialId: 't', trialName: 'crash' });
      void ws.exec(${JSON.stringify(command)}, { env: { MARK: process.env.SANDBOX_MARK } });
      setInterval(() => {}, 1000);
    `;
    // The marker travels in a variable: only the processes named after it hold it in their command line.
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, SANDBOX_MARK: marker },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    try {
      await waitFor(() => {
        if (exited) throw new Error('the child exited before its trial started');
        return pgrep(marker).split('\n').filter(Boolean).length === 2;
      });
    } finally {
      child.kill('SIGKILL');
      if (!exited) await new Promise((resolve) => child.once('exit', resolve));
    }
    await waitFor(() => pgrep(marker) === '');
    expect(pgrep(marker)).toBe('');
  });

  it('falls back loudly when bubblewrap is missing, and records it in the limits', async () => {
    const bin = await tempDir('sandbox-nobwrap');
    await symlink(execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim(), join(bin, 'bash'));
    const taskDir = await makeTask();
    const script = `
      import { createLocalProvider } from './src/environments/local.js';
      import { loadTaskOrThrow } from './src/task/load.js';
      const provider = createLocalProvider();
      await provider.preflight();
      const lines = [];
      const task = await loadTaskOrThrow(${JSON.stringify(taskDir)});
      const prepared = await provider.prepare(task, { jobId: 'j', forceBuild: false, log: (l) => lines.push(l) });
      await provider.prepare(task, { jobId: 'j', forceBuild: false, log: (l) => lines.push(l) });
      const ws = await provider.createWorkspace(prepared, { jobId: 'j', trialId: 't', trialName: 'fallback' });
      const run = await ws.exec('echo ran');
      console.log(JSON.stringify({ lines, limits: ws.limits, stdout: run.stdout }));
      await ws.dispose();
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: bin, SKILL_EVAL_LOCAL_SANDBOX: '' },
    });
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as {
      lines: string[];
      limits: { sandbox?: string; notes: string[] };
      stdout: string;
    };
    expect(report.stdout).toBe('ran\n');
    expect(report.lines).toHaveLength(1);
    expect(report.lines[0]).toMatch(/WARNING: local provider NOT sandboxed: bubblewrap \(bwrap\) is not installed/);
    expect(report.limits.sandbox).toBe('not enforced');
    expect(report.limits.notes.join('\n')).toMatch(/not sandboxed \(bubblewrap \(bwrap\) is not installed\)/);
  });

  it('SKILL_EVAL_LOCAL_SANDBOX=1 refuses to run without it; the sandbox option off is recorded', async () => {
    const bin = await tempDir('sandbox-required');
    await symlink(execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim(), join(bin, 'bash'));
    const script = `
      import { createLocalProvider } from './src/environments/local.js';
      await createLocalProvider().preflight().then(() => console.log('ran'), (e) => console.log(e.message));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: bin, SKILL_EVAL_LOCAL_SANDBOX: '1' },
    });
    expect(out).toMatch(/the local sandbox is required \(SKILL_EVAL_LOCAL_SANDBOX=1\) but cannot run/);
    const ws = await workspace(createLocalProvider({ sandbox: 'off' }), await makeTask(), 'off');
    try {
      expect(ws.limits.sandbox).toBe('not enforced');
      expect(ws.limits.notes.join('\n')).toMatch(/not sandboxed \(turned off/);
    } finally {
      await ws.dispose();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
