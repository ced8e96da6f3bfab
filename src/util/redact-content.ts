import { gunzipSync, gzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { redactTar } from './redact-tar.js';

/** What the tree walk needs of the Redactor (a structural type: no import cycle with secrets.ts). */
export interface ContentRedactor {
  redact(text: string): string;
  /** The same buffer when nothing matched. */
  redactBuffer(data: Buffer): Buffer;
}

export type ContentOutcome =
  | { kind: 'clean' }
  | { kind: 'rewritten'; data: Buffer }
  /** It holds a secret and can't be rewritten without corrupting it (or couldn't be scanned): it goes. */
  | { kind: 'removed'; reason: string };

/** Past this, decompressed data is not scanned: the file is removed (a decompression bomb fills no disk). */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
/** Archives inside archives are unpacked this deep; deeper ones are scanned as plain bytes. */
const MAX_DEPTH = 4;

const CLEAN: ContentOutcome = { kind: 'clean' };

const isGzip = (data: Buffer): boolean => data.length >= 18 && data[0] === 0x1f && data[1] === 0x8b;
const isTar = (data: Buffer): boolean => data.length >= 512 && data.toString('latin1', 257, 262) === 'ustar';
const isZip = (data: Buffer): boolean =>
  data.length >= 22 && data[0] === 0x50 && data[1] === 0x4b && (data[2] === 3 || data[2] === 5);
/** A NUL byte: not text, so a replacement that changes its length would corrupt it. */
const isBinary = (data: Buffer): boolean => data.includes(0);

function plainBytes(data: Buffer, redactor: ContentRedactor, what: string): ContentOutcome {
  const redacted = redactor.redactBuffer(data);
  if (redacted === data) return CLEAN;
  if (isBinary(data))
    return { kind: 'removed', reason: `${what}: replacing the secret would change its length and corrupt it` };
  return { kind: 'rewritten', data: redacted };
}

async function redactGzip(data: Buffer, redactor: ContentRedactor, depth: number): Promise<ContentOutcome> {
  let inner: Buffer;
  try {
    inner = gunzipSync(data, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      return { kind: 'removed', reason: 'a gzip file too large to scan once decompressed (over 256 MiB)' };
    return plainBytes(data, redactor, 'a gzip file that could not be decompressed');
  }
  const outcome = await redactContent(inner, redactor, depth + 1);
  if (outcome.kind === 'removed') return { kind: 'removed', reason: `a gzip file whose content is ${outcome.reason}` };
  if (outcome.kind === 'rewritten') return { kind: 'rewritten', data: gzipSync(outcome.data) };
  // Clean inside, but the header may name the original file (gzip's FNAME): recompressing drops it.
  return redactor.redactBuffer(data) === data ? CLEAN : { kind: 'rewritten', data: gzipSync(inner) };
}

/** Zip archives are scanned, never rewritten: one that holds a secret anywhere is removed. */
async function scanZip(data: Buffer, redactor: ContentRedactor, depth: number): Promise<ContentOutcome> {
  const tooLarge: string[] = [];
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(data, {
      filter: (file) => {
        if (file.originalSize <= MAX_UNPACKED_BYTES) return true;
        tooLarge.push(file.name);
        return false;
      },
    });
  } catch {
    return plainBytes(data, redactor, 'a zip archive that could not be read');
  }
  const removed = (why: string): ContentOutcome => ({
    kind: 'removed',
    reason: `a zip archive ${why} (zip archives are not rewritten)`,
  });
  if (tooLarge.length > 0) return removed(`with a member too large to scan: ${redactor.redact(tooLarge[0]!)}`);
  if (redactor.redactBuffer(data) !== data) return removed('holding a secret');
  for (const [name, content] of Object.entries(members)) {
    if (redactor.redact(name) !== name) return removed('holding a secret in a member name');
    const outcome = await redactContent(Buffer.from(content), redactor, depth + 1);
    if (outcome.kind !== 'clean') return removed(`holding a secret in ${name}`);
  }
  return CLEAN;
}

/**
 * Redacts one file's bytes by what they are: gzip (decompressed, redacted, recompressed), tar (re-packed with the
 * redacted members, names and link targets), zip (scanned), binary (scanned), text (redacted in place).
 */
export async function redactContent(data: Buffer, redactor: ContentRedactor, depth = 0): Promise<ContentOutcome> {
  if (depth < MAX_DEPTH) {
    if (isGzip(data)) return redactGzip(data, redactor, depth);
    if (isTar(data)) return redactTar(data, redactor, (member) => redactContent(member, redactor, depth + 1));
    if (isZip(data)) return scanZip(data, redactor, depth);
  }
  return plainBytes(data, redactor, isBinary(data) ? 'a binary file' : 'a text file');
}
