/**
 * The one-exec verification's log extraction (src/environments/docker/collect.ts), fed tars built here as
 * `tar -c -C /` would name them. No engine needed: the real path is covered in docker.test.ts.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { type CollectedLogs, collectLogs } from '../../src/environments/docker/collect.js';

type Entry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device';
  content?: string;
  linkname?: string;
  mode?: number;
  mtime?: Date;
};

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { content, ...header } of entries) {
    const isFile = header.type === undefined || header.type === 'file';
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (isFile) pack.entry({ type: 'file', mode: 0o644, ...header }, content ?? '', done);
      else pack.entry({ mode: 0o755, ...header }, done);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const OUT = '/tmp/.skill-eval-verify';

async function collect(
  entries: Entry[] | Buffer,
  options: { limit?: number; chunk?: number } = {},
): Promise<{ trial: string; logs: CollectedLogs }> {
  const trial = await mkdtemp(join(tmpdir(), 'skill-eval-collect-test-'));
  const routes = ['agent', 'verifier', 'artifacts'].map((dir) => ({ from: `/logs/${dir}`, to: join(trial, dir) }));
  const collector = collectLogs(routes, OUT, options.limit);
  const tar = Buffer.isBuffer(entries) ? entries : await tarOf(entries);
  // As the exec's frames arrive: in pieces.
  const size = options.chunk ?? 700;
  for (let at = 0; at < tar.length; at += size) collector.sink.write(tar.subarray(at, at + size));
  collector.sink.end();
  return { trial, logs: await collector.done };
}

describe('collecting the verifier logs from the one-exec tar', () => {
  it('places each collected directory at its destination and keeps the verifier output in memory only', async () => {
    const mtime = new Date('2025-01-02T03:04:05Z');
    const { trial, logs } = await collect([
      { name: 'logs/agent/', type: 'directory', mode: 0o755 },
      { name: 'logs/agent/session/', type: 'directory', mode: 0o700 },
      { name: 'logs/agent/session/turns.jsonl', content: '{"turn":1}\n', mtime },
      { name: 'logs/verifier/', type: 'directory' },
      { name: 'logs/verifier/reward.txt', content: '1\n' },
      { name: 'logs/artifacts/', type: 'directory' },
      { name: 'logs/artifacts/run.sh', content: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'tmp/.skill-eval-verify/', type: 'directory' },
      { name: 'tmp/.skill-eval-verify/stdout', content: 'ok 1 - test\n' },
      { name: 'tmp/.skill-eval-verify/stderr', content: 'warning: é\n' },
    ]);
    expect(readFileSync(join(trial, 'agent/session/turns.jsonl'), 'utf8')).toBe('{"turn":1}\n');
    expect(statSync(join(trial, 'agent/session/turns.jsonl')).mtime.toISOString()).toBe(mtime.toISOString());
    expect(readFileSync(join(trial, 'verifier/reward.txt'), 'utf8')).toBe('1\n');
    // Permission bits survive (under the umask); setuid never does.
    const mode = statSync(join(trial, 'artifacts/run.sh')).mode & 0o7777;
    expect(mode & 0o100).toBe(0o100);
    expect(mode & 0o4000).toBe(0);
    expect(logs).toEqual({ stdout: 'ok 1 - test\n', stderr: 'warning: é\n', skipped: [] });
    // Nothing but the three destinations: no staging directory, no output files.
    expect(readdirSync(trial).sort()).toEqual(['agent', 'artifacts', 'verifier']);
  });

  it('keeps the tail of a long output, says how much came before, and keeps characters split across chunks whole', async () => {
    const { logs } = await collect([{ name: 'tmp/.skill-eval-verify/stdout', content: `${'é'.repeat(2500)}TAIL` }], {
      limit: 1000,
      chunk: 511,
    });
    const [, dropped, kept] = /^\[… (\d+) earlier characters dropped …\]\n(.*)$/s.exec(logs.stdout) ?? [];
    expect(kept).toMatch(/^é+TAIL$/);
    expect(kept!.length).toBeLessThanOrEqual(1000);
    expect(Number(dropped) + kept!.length).toBe(2504);
    expect(logs.stderr).toBe('');
  });

  it('keeps relative links that stay inside their directory and leaves out, without failing, links that point elsewhere', async () => {
    const { trial, logs } = await collect([
      { name: 'logs/artifacts/', type: 'directory' },
      { name: 'logs/artifacts/real.txt', content: 'real' },
      { name: 'logs/artifacts/same.txt', type: 'symlink', linkname: 'real.txt' },
      { name: 'logs/artifacts/abs.txt', type: 'symlink', linkname: '/app/output.txt' },
      { name: 'logs/artifacts/up.txt', type: 'symlink', linkname: '../../etc/passwd' },
      { name: 'logs/artifacts/sibling', type: 'symlink', linkname: '../agent' },
    ]);
    expect(readlinkSync(join(trial, 'artifacts/same.txt'))).toBe('real.txt');
    for (const name of ['abs.txt', 'up.txt', 'sibling'])
      expect(existsSync(join(trial, 'artifacts', name)) || isLink(join(trial, 'artifacts', name))).toBe(false);
    expect(logs.skipped).toEqual([
      '/logs/artifacts/abs.txt → /app/output.txt: a symbolic link out of /logs/artifacts',
      '/logs/artifacts/up.txt → ../../etc/passwd: a symbolic link out of /logs/artifacts',
      '/logs/artifacts/sibling → ../agent: a symbolic link out of /logs/artifacts',
    ]);
  });

  it('never writes through a link: a file replaces a link of its name, and nothing goes into a linked directory', async () => {
    const { trial, logs } = await collect([
      { name: 'logs/agent/', type: 'directory' },
      { name: 'logs/agent/target.txt', content: 'original' },
      { name: 'logs/agent/sub/', type: 'directory' },
      { name: 'logs/agent/alias.txt', type: 'symlink', linkname: 'target.txt' },
      { name: 'logs/agent/alias.txt', content: 'replacement' },
      { name: 'logs/agent/linked', type: 'symlink', linkname: 'sub' },
      { name: 'logs/agent/linked/planted.txt', content: 'planted' },
    ]);
    expect(readFileSync(join(trial, 'agent/target.txt'), 'utf8')).toBe('original');
    expect(isLink(join(trial, 'agent/alias.txt'))).toBe(false);
    expect(readFileSync(join(trial, 'agent/alias.txt'), 'utf8')).toBe('replacement');
    expect(readdirSync(join(trial, 'agent/sub'))).toEqual([]);
    expect(logs.skipped).toEqual([
      '/logs/agent/linked/planted.txt: one of its directories is not a directory on the host',
    ]);
  });

  it('leaves out names with `..`, names outside the collected directories, devices and FIFOs, and a non-directory in place of a collected one', async () => {
    const { trial, logs } = await collect([
      { name: 'logs/agent/../../escape.txt', content: 'x' },
      { name: 'etc/passwd', content: 'x' },
      { name: 'logs/verifier/', type: 'directory' },
      { name: 'logs/verifier/pipe', type: 'fifo' },
      { name: 'logs/verifier/tty', type: 'character-device' },
      { name: 'logs/artifacts', type: 'symlink', linkname: '/' },
    ]);
    expect(existsSync(join(trial, '..', 'escape.txt'))).toBe(false);
    expect(readdirSync(join(trial, 'verifier'))).toEqual([]);
    expect(existsSync(join(trial, 'artifacts'))).toBe(false);
    expect(logs.skipped).toEqual([
      '/logs/agent/../../escape.txt: not a plain path',
      '/etc/passwd: outside the collected directories',
      '/logs/verifier/pipe: a fifo, not a file, directory or link',
      '/logs/verifier/tty: a character-device, not a file, directory or link',
      '/logs/artifacts: a symlink where a directory was expected',
    ]);
  });

  it('makes hard links to files it extracted, and reuses a destination directory that already exists', async () => {
    const trialEntries: Entry[] = [
      { name: 'logs/verifier/', type: 'directory' },
      { name: 'logs/verifier/a.txt', content: 'same' },
      { name: 'logs/verifier/b.txt', type: 'link', linkname: 'logs/verifier/a.txt' },
      { name: 'logs/verifier/c.txt', type: 'link', linkname: 'etc/shadow' },
    ];
    const { trial, logs } = await collect(trialEntries);
    expect(readFileSync(join(trial, 'verifier/b.txt'), 'utf8')).toBe('same');
    expect(logs.skipped).toEqual(['/logs/verifier/c.txt: a hard link to etc/shadow, which was not extracted']);

    const existing = await mkdtemp(join(tmpdir(), 'skill-eval-collect-test-'));
    mkdirSync(join(existing, 'verifier'));
    writeFileSync(join(existing, 'verifier/old.txt'), 'old');
    const collector = collectLogs([{ from: '/logs/verifier', to: join(existing, 'verifier') }], OUT);
    Readable.from([
      await tarOf([
        { name: 'logs/verifier/', type: 'directory' },
        { name: 'logs/verifier/reward.txt', content: '0' },
      ]),
    ]).pipe(collector.sink);
    await collector.done;
    expect(readdirSync(join(existing, 'verifier')).sort()).toEqual(['old.txt', 'reward.txt']);
  });

  it('rejects a truncated archive', async () => {
    const tar = await tarOf([{ name: 'logs/verifier/reward.txt', content: 'x'.repeat(4096) }]);
    await expect(collect(tar.subarray(0, 1024))).rejects.toThrow(/Unexpected end of data/);
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
