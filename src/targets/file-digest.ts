import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** The file's sha256 in hex; undefined when it cannot be read (a missing samples file has no digest). */
export async function sha256File(path: string): Promise<string | undefined> {
  return readFile(path).then(
    (bytes) => createHash('sha256').update(bytes).digest('hex'),
    () => undefined,
  );
}
