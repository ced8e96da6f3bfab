import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { expect, it } from 'vitest';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { loadFixtureTask, runOne, tempDir } from '../helpers/trials.js';

async function tarNames(data: Buffer): Promise<Map<string, string>> {
  const members = new Map<string, string>();
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        members.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks).toString() || (header.linkname ?? ''));
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

/**
 * Issue #19's acceptance: an agent leaking three secrets in every form (tests/fixtures/lifecycle/secret-forms)
 * leaves none of them, in any form, anywhere under the results dir; its tar archives stay valid, its zip and
 * binaries are replaced by notes. Registered by each provider's test file.
 */
export function secretFormsRules(getProvider: () => EnvironmentProvider): void {
  it('leaves no secret in any form anywhere under the results dir; tars stay valid, a zip becomes a note', async () => {
    const id = Math.random().toString(36).slice(2, 10);
    const secrets = [`sk-ant-api03-${id}-Kq9Zx`, `ghp_${id}~Tok.en42`, `p@ss w0rd!${id}&x=1`];
    const resultsDir = await tempDir('secret-forms');
    const { result, trialDir } = await runOne({
      provider: getProvider(),
      task: await loadFixtureTask('secret-forms'),
      env: { FIXTURE_API_KEY: secrets[0]!, FIXTURE_TOKEN: secrets[1]!, FIXTURE_PASSWORD: secrets[2]! },
      secrets,
      resultsDir,
    });
    expect(result.status, JSON.stringify(result.error)).toBe('passed');
    expect(await scanForSecrets(resultsDir, secrets)).toEqual([]);

    const artifacts = join(trialDir, 'artifacts');
    const names = (await readdir(artifacts)).sort();
    expect(names).toEqual(expect.arrayContaining(['dir-[REDACTED]', 'dir-[REDACTED]-2', 'dir-[REDACTED]-3']));
    expect(await readdir(join(artifacts, 'dir-[REDACTED]'))).toEqual(['file-[REDACTED].txt']);
    expect(await readlink(join(artifacts, 'link-1'))).toBe('target-[REDACTED]');
    expect(gunzipSync(await readFile(join(artifacts, 'leak-1.gz'))).toString()).toBe('gz: [REDACTED]\n');
    const forms = await readFile(join(artifacts, 'forms-3.txt'), 'utf8');
    expect(forms).toMatch(/^literal: \[REDACTED\]\n/);

    for (const tar of ['bundle.tar', 'bundle.tar.gz']) {
      const data = await readFile(join(artifacts, tar));
      const members = await tarNames(tar.endsWith('.gz') ? gunzipSync(data) : data);
      expect(members.get('clean.txt'), tar).toBe('keep me\n');
      expect(members.get('inner/key.txt'), tar).toBe('[REDACTED]\n');
      expect(members.get('pwlink'), tar).toBe('[REDACTED]');
    }
    expect(names).not.toContain('bundle.zip');
    expect(await readFile(join(artifacts, 'bundle.zip.redacted.txt'), 'utf8')).toMatch(/removed "bundle\.zip".*zip/);
    expect(names).toContain('blob-1.bin.redacted.txt');
  });
}
