import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalProvider, makePathRewriter } from '../../src/environments/local.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { tempDir } from '../helpers/trials.js';

async function makeTask(dockerfile: string): Promise<string> {
  const dir = join(await tempDir('local-task'), 'copy-task');
  await mkdir(join(dir, 'tests'), { recursive: true });
  await mkdir(join(dir, 'environment', 'app', 'src'), { recursive: true });
  await writeFile(join(dir, 'task.toml'), 'schema_version = "1.1"\n');
  await writeFile(join(dir, 'instruction.md'), 'Do it.\n');
  await writeFile(join(dir, 'tests', 'test.sh'), '#!/usr/bin/env bash\necho 1 > /logs/verifier/reward.txt\n');
  await writeFile(join(dir, 'environment', 'Dockerfile'), dockerfile);
  await writeFile(join(dir, 'environment', 'app', 'src', 'main.txt'), 'hello\n');
  await writeFile(join(dir, 'environment', 'tool'), '#!/usr/bin/env bash\necho tool-ran\n', { mode: 0o755 });
  return dir;
}

describe('local provider', () => {
  it('rewrites Harbor absolute paths only where a path starts', () => {
    const rewrite = makePathRewriter('/tmp/r', ['/logs', '/tests', '/app']);
    expect(rewrite('echo 1 > /logs/verifier/reward.txt')).toBe('echo 1 > /tmp/r/logs/verifier/reward.txt');
    expect(rewrite('bash "/tests/test.sh"; cd /app && ls')).toBe('bash "/tmp/r/tests/test.sh"; cd /tmp/r/app && ls');
    expect(rewrite('cat /usr/share/applications /apple /logsfoo')).toBe('cat /usr/share/applications /apple /logsfoo');
    expect(rewrite(rewrite('x=/logs/agent'))).toBe('x=/tmp/r/logs/agent');
  });

  it('reproduces WORKDIR, COPY and ENV of the Dockerfile and puts copied bin dirs on PATH', async () => {
    const task = await loadTaskOrThrow(
      await makeTask(
        'FROM skill-eval/base:bookworm\nENV GREETING=hi\nCOPY app/ /srv/project/\nCOPY tool /usr/local/bin/tool\nWORKDIR /srv/project\nRUN apt-get install -y foo\n',
      ),
    );
    const provider = createLocalProvider();
    const prepared = await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined });
    expect(prepared.notes.join('\n')).toMatch(/does not execute: RUN/);
    const ws = await provider.createWorkspace(prepared, { jobId: 'j', trialId: 't', trialName: 'copy' });
    try {
      expect(ws.paths.workdir.endsWith('/srv/project')).toBe(true);
      const result = await ws.exec('cat src/main.txt; tool; echo "$GREETING"; pwd; echo home=$HOME');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('hello\ntool-ran\nhi\n');
      expect(result.stdout).toContain(`${ws.paths.workdir}\n`);
      expect(result.stdout).toContain(`home=${ws.paths.home}`);
      const mapped = await ws.exec('cat /srv/project/src/main.txt && echo 1 > /logs/verifier/x');
      expect(mapped.stdout).toBe('hello\n');
      expect(await ws.readFile('/logs/verifier/x')).toEqual(Buffer.from('1\n'));
    } finally {
      await ws.dispose();
    }
  });

  it('keeps stdout and stderr apart, returns real exit codes, and never inherits host secrets', async () => {
    const provider = createLocalProvider();
    const task = await loadTaskOrThrow(await makeTask('FROM x\nWORKDIR /app\n'));
    const ws = await provider.createWorkspace(
      await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined }),
      { jobId: 'j', trialId: 't', trialName: 'io' },
    );
    process.env.LOCAL_TEST_API_KEY = 'should-not-leak';
    try {
      const result = await ws.exec('echo out; echo err >&2; echo "key=${LOCAL_TEST_API_KEY:-unset}"; exit 7');
      expect(result).toMatchObject({ exitCode: 7, stdout: 'out\nkey=unset\n', stderr: 'err\n', timedOut: false });
      const withEnv = await ws.exec('echo "$A"', { env: { A: 'given' }, stdin: 'ignored' });
      expect(withEnv.stdout).toBe('given\n');
      const stdin = await ws.exec('cat', { stdin: 'from stdin' });
      expect(stdin.stdout).toBe('from stdin');
    } finally {
      delete process.env.LOCAL_TEST_API_KEY;
      await ws.dispose();
    }
  });

  it('streams output as it arrives, and runs each command as the leader of its own process group', async () => {
    // Unsandboxed (the fallback): inside the sandbox's PID namespace host pids are not visible (local-sandbox.test.ts).
    const provider = createLocalProvider({ sandbox: 'off' });
    const task = await loadTaskOrThrow(await makeTask('FROM x\nWORKDIR /app\n'));
    const ws = await provider.createWorkspace(
      await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined }),
      { jobId: 'j', trialId: 't', trialName: 'group' },
    );
    try {
      const chunks: string[] = [];
      // Field 5 of /proc/PID/stat is the process group (bash's name has no space that would shift it).
      const result = await ws.exec("echo $$; awk '{print $5}' /proc/$$/stat; echo $PPID", {
        onStdout: (chunk) => chunks.push(chunk),
      });
      const [pid, pgid, parent] = result.stdout.trim().split(/\s+/).map(Number);
      expect(pgid).toBe(pid);
      const ours = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
      expect(pgid).not.toBe(Number(ours.slice(ours.lastIndexOf(')') + 2).split(' ')[2]));
      expect(parent).toBe(process.pid);
      expect(chunks.join('')).toBe(result.stdout);
    } finally {
      await ws.dispose();
    }
  });

  it('kills the whole process group on timeout and leaves nothing running after dispose', async () => {
    const provider = createLocalProvider({ killGraceMs: 300 });
    const task = await loadTaskOrThrow(await makeTask('FROM x\nWORKDIR /app\n'));
    const ws = await provider.createWorkspace(
      await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined }),
      { jobId: 'j', trialId: 't', trialName: 'kill' },
    );
    const marker = `skill-eval-local-test-${process.pid}`;
    const started = Date.now();
    const result = await ws.exec(
      `(exec -a ${marker}-child sleep 300) & trap '' TERM; exec -a ${marker}-parent sleep 300`,
      { timeoutMs: 500 },
    );
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
    await ws.exec(`(exec -a ${marker}-background sleep 300) &`);
    const root = ws.paths.workdir;
    await ws.dispose();
    const survivors = (() => {
      try {
        return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' });
      } catch {
        return '';
      }
    })();
    expect(survivors).toBe('');
    expect(existsSync(root)).toBe(false);
  });

  it('rewrites Harbor paths inside uploaded text files', async () => {
    const provider = createLocalProvider();
    const task = await loadTaskOrThrow(await makeTask('FROM x\nWORKDIR /app\n'));
    const ws = await provider.createWorkspace(
      await provider.prepare(task, { jobId: 'j', forceBuild: false, log: () => undefined }),
      { jobId: 'j', trialId: 't', trialName: 'upload' },
    );
    try {
      await ws.upload(task.paths.testsDir, ws.paths.tests);
      const uploaded = await readFile(join(ws.paths.tests, 'test.sh'), 'utf8');
      expect(uploaded).toContain(`> ${ws.paths.logsVerifier}/reward.txt`);
      const run = await ws.exec(`bash ${ws.paths.tests}/test.sh`);
      expect(run.exitCode).toBe(0);
      expect((await ws.readFile('/logs/verifier/reward.txt'))?.toString()).toBe('1\n');
    } finally {
      await ws.dispose();
    }
  });
});
