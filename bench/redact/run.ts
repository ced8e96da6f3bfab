/**
 * The redactor on what a trial leaves: three secrets, every encoded form (src/util/redact-forms.ts), over a few MB
 * of text, base64 and a tar. Prints milliseconds per case; nothing here is a pass/fail test.
 *
 *   pnpm run bench redact
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { Redactor } from '../../src/util/secrets.js';

const SECRETS = ['sk-ant-api03-bench-Zq9x7Kq2Lm0pQ', 'ghp_benchToken1234567890abcdef', 'p@ss w0rd!bench&x=1'];
const MB = 1024 * 1024;

function logText(bytes: number): Buffer {
  const line = '2026-12-01T23:00:00Z INFO request handled in 12 ms path=/api/v1/items?id=42 status=200\n';
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes));
}

async function tarOf(data: Buffer): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  pack.entry({ name: 'big.log' }, data);
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

function time(label: string, run: () => unknown): void {
  const started = performance.now();
  run();
  console.log(`${label.padEnd(44)} ${(performance.now() - started).toFixed(1).padStart(8)} ms`);
}

async function timeAsync(label: string, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await run();
  console.log(`${label.padEnd(44)} ${(performance.now() - started).toFixed(1).padStart(8)} ms`);
}

const redactor = new Redactor(SECRETS);
time('first use (compiles the patterns)', () => redactor.redactBuffer(Buffer.from('warm up')));
time('text log line × 10,000', () => {
  for (let i = 0; i < 10_000; i += 1) redactor.redact(`{"type":"command","stdout":"line ${i} of output"}`);
});
const text = logText(5 * MB);
time('5 MB log, no secret', () => redactor.redactBuffer(text));
const leaky = Buffer.concat([text, Buffer.from(`${SECRETS[0]}\n`), text]);
time('10 MB log, one secret', () => redactor.redactBuffer(leaky));
const base64 = Buffer.from(text.toString('base64'));
time(`${(base64.length / MB).toFixed(1)} MB base64, no secret`, () => redactor.redactBuffer(base64));
const hex = Buffer.from(text.subarray(0, 2.5 * MB).toString('hex'));
time('5 MB hex, no secret', () => redactor.redactBuffer(hex));

const dir = await mkdtemp(join(tmpdir(), 'skill-eval-bench-redact-'));
try {
  const tar = await tarOf(leaky);
  await writeFile(join(dir, 'bundle.tar'), tar);
  await writeFile(join(dir, 'bundle.tar.gz'), gzipSync(tar));
  await writeFile(join(dir, 'big.log'), leaky);
  await timeAsync('redactTree: 10 MB log + its .tar + .tar.gz', () => redactor.redactTree(dir));
} finally {
  await rm(dir, { recursive: true, force: true });
}
