import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import tarStream from 'tar-stream';

/**
 * A secret scanner for tests, written apart from the redactor (src/util/redact-forms.ts) so that it checks it
 * rather than repeats it: every file under a directory — contents, names, symlink targets, and the members of
 * .gz/.tar/.zip files (also nested) — searched for every secret in every encoded form, line breaks removed first.
 */

export interface SecretHit {
  /** Relative to the scanned directory; `!member` for a member of an archive. */
  where: string;
  /** What held it: the contents, the name, or the link target. */
  in: 'contents' | 'name' | 'link target';
  form: string;
  secret: string;
}

/** The base64 characters that stay the same wherever the secret sits in a stream: shown three ways. */
function base64Inner(secret: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.from('x'.repeat(offset)), secret]).toString('base64');
  const first = offset === 0 ? 0 : offset === 1 ? 2 : 3;
  return encoded.slice(first, Math.floor(((offset + secret.length) * 4) / 3));
}

/** form name → the text to look for; `lowercase` forms are compared with the haystack lowercased. */
export function encodedForms(secret: string): Array<{ form: string; needle: string; lowercase?: boolean }> {
  const bytes = Buffer.from(secret);
  const forms: Array<{ form: string; needle: string; lowercase?: boolean }> = [{ form: 'literal', needle: secret }];
  for (const offset of [0, 1, 2]) {
    const inner = base64Inner(bytes, offset);
    forms.push({ form: `base64@${offset}`, needle: inner });
    forms.push({ form: `base64url@${offset}`, needle: inner.replaceAll('+', '-').replaceAll('/', '_') });
  }
  forms.push({ form: 'hex', needle: bytes.toString('hex'), lowercase: true });
  return forms;
}

/** Every `%XX` decoded (to one latin1 character per byte) and `+` read as a space. */
function percentDecoded(text: string): string {
  return text
    .replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\+/g, ' ');
}

function findForms(text: string, secrets: readonly string[]): Array<{ form: string; secret: string }> {
  const joined = text.replace(/\r|\n|\\r|\\n/g, '');
  const lower = joined.toLowerCase();
  const hits: Array<{ form: string; secret: string }> = [];
  for (const secret of secrets) {
    for (const { form, needle, lowercase } of encodedForms(secret))
      if ((lowercase ? lower : joined).includes(lowercase ? needle.toLowerCase() : needle)) hits.push({ form, secret });
    // URL-encoded in any mix of raw characters and escapes (encodeURIComponent, Python's quote, full %XX).
    const decoded = percentDecoded(joined.split(secret).join(' '));
    if (decoded.includes(Buffer.from(secret).toString('latin1')) || decoded.includes(secret))
      hits.push({ form: 'url', secret });
  }
  return hits;
}

async function tarMembers(data: Buffer): Promise<Array<{ name: string; linkname?: string; data: Buffer }>> {
  const members: Array<{ name: string; linkname?: string; data: Buffer }> = [];
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        members.push({ name: header.name, linkname: header.linkname ?? undefined, data: Buffer.concat(chunks) });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([data]).pipe(extract);
  await done;
  return members;
}

/** The hits in one file's bytes, unpacking what it can. */
async function scanBytes(data: Buffer, where: string, secrets: readonly string[]): Promise<SecretHit[]> {
  const hits: SecretHit[] = findForms(data.toString('latin1'), secrets).map((h) => ({ where, in: 'contents', ...h }));
  const utf8 = findForms(data.toString('utf8'), secrets).map((h) => ({ where, in: 'contents' as const, ...h }));
  hits.push(...utf8.filter((h) => !hits.some((k) => k.form === h.form && k.secret === h.secret)));
  if (data[0] === 0x1f && data[1] === 0x8b)
    hits.push(...(await scanBytes(gunzipSync(data), `${where}!gunzip`, secrets)));
  else if (data.length >= 512 && data.toString('latin1', 257, 262) === 'ustar') {
    for (const member of await tarMembers(data)) {
      const at = `${where}!${member.name}`;
      for (const h of findForms(member.name, secrets)) hits.push({ where: at, in: 'name', ...h });
      for (const h of findForms(member.linkname ?? '', secrets)) hits.push({ where: at, in: 'link target', ...h });
      hits.push(...(await scanBytes(member.data, at, secrets)));
    }
  } else if (data[0] === 0x50 && data[1] === 0x4b) {
    for (const [name, content] of Object.entries(unzipSync(data))) {
      const at = `${where}!${name}`;
      for (const h of findForms(name, secrets)) hits.push({ where: at, in: 'name', ...h });
      hits.push(...(await scanBytes(Buffer.from(content), at, secrets)));
    }
  }
  return hits;
}

/** Every secret, in any form, anywhere under `dir`. */
export async function scanForSecrets(dir: string, secrets: readonly string[], root = dir): Promise<SecretHit[]> {
  const hits: SecretHit[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const where = relative(root, path);
    for (const h of findForms(name, secrets)) hits.push({ where, in: 'name', ...h });
    const info = await lstat(path);
    if (info.isDirectory()) hits.push(...(await scanForSecrets(path, secrets, root)));
    else if (info.isSymbolicLink())
      for (const h of findForms(await readlink(path), secrets)) hits.push({ where, in: 'link target', ...h });
    else if (info.isFile()) hits.push(...(await scanBytes(await readFile(path), where, secrets)));
  }
  return hits;
}
