import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { ContentOutcome, ContentRedactor } from './redact-content.js';

type Header = tarStream.Header;

interface Member {
  header: Header;
  data: Buffer;
}

/** Every member of a tar with its bytes; undefined when it is not a tar tar-stream can read. */
async function readMembers(data: Buffer): Promise<Member[] | undefined> {
  const members: Member[] = [];
  const extract = tarStream.extract();
  try {
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
        stream.on('end', () => {
          members.push({ header, data: Buffer.concat(chunks) });
          next();
        });
        stream.on('error', reject);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    Readable.from([data]).pipe(extract);
    await done;
    return members;
  } catch {
    return undefined;
  }
}

async function pack(members: readonly Member[]): Promise<Buffer> {
  const packer = tarStream.pack();
  const chunks: Buffer[] = [];
  packer.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    packer.on('end', resolve);
    packer.on('error', reject);
  });
  for (const { header, data } of members) {
    const hasBody = header.type === 'file' || header.type === 'contiguous-file' || header.type === undefined;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (hasBody) packer.entry({ ...header, size: data.length }, data, done);
      else packer.entry({ ...header, size: 0 }, done);
    });
  }
  packer.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Names, link target, owner names and PAX records: every text a tar header holds. */
function redactHeader(header: Header, redactor: ContentRedactor): Header {
  const text = <T extends string | null | undefined>(value: T): T =>
    (typeof value === 'string' ? redactor.redact(value) : value) as T;
  const pax = header.pax as Record<string, string> | null | undefined;
  return {
    ...header,
    name: text(header.name),
    linkname: text(header.linkname),
    uname: text(header.uname),
    gname: text(header.gname),
    pax: pax && Object.fromEntries(Object.entries(pax).map(([key, value]) => [key, text(value)])),
  };
}

/**
 * A tar that holds a secret — in a member's contents, name, link target or header — is re-packed with the redacted
 * members at their new sizes: a valid tar, never one corrupted by a change of length. When a member can't be
 * rewritten (a binary, a zip) or the result still holds a secret, the whole tar is removed.
 */
export async function redactTar(
  data: Buffer,
  redactor: ContentRedactor,
  redactMember: (data: Buffer) => Promise<ContentOutcome>,
): Promise<ContentOutcome> {
  const members = await readMembers(data);
  if (!members) {
    return redactor.redactBuffer(data) === data
      ? { kind: 'clean' }
      : { kind: 'removed', reason: 'a tar archive that could not be read' };
  }
  let changed = redactor.redactBuffer(data) !== data;
  const redacted: Member[] = [];
  for (const member of members) {
    const header = redactHeader(member.header, redactor);
    const outcome = await redactMember(member.data);
    if (outcome.kind === 'removed')
      return { kind: 'removed', reason: `a tar archive whose ${header.name} is ${outcome.reason}` };
    if (outcome.kind === 'rewritten' || JSON.stringify(header) !== JSON.stringify(member.header)) changed = true;
    redacted.push({ header, data: outcome.kind === 'rewritten' ? outcome.data : member.data });
  }
  if (!changed) return { kind: 'clean' };
  const repacked = await pack(redacted);
  if (redactor.redactBuffer(repacked) !== repacked)
    return { kind: 'removed', reason: 'a tar archive that still held a secret once re-packed' };
  return { kind: 'rewritten', data: repacked };
}
