import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanForSecrets } from '../helpers/secret-scan.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';

// The scanner is what the leak tests trust: it must see every form the fixture agent leaks, unredacted.
describe('the test secret scanner', () => {
  it('finds every form the secret-forms fixture leaks when nothing redacts them', async () => {
    const dir = await tempDir('scan');
    const script = await readFile(join(FIXTURES, 'lifecycle', 'secret-forms', 'solution', 'solve.sh'), 'utf8');
    const secrets = ['sk-ant-api03-scan1-Kq9Zx', 'ghp_scan2~Tok.en42', 'p@ss w0rd!scan3&x=1'];
    execFileSync('bash', ['-c', script.replaceAll('/logs/', `${dir}/logs/`)], {
      env: {
        PATH: process.env.PATH,
        TMPDIR: dir,
        FIXTURE_API_KEY: secrets[0],
        FIXTURE_TOKEN: secrets[1],
        FIXTURE_PASSWORD: secrets[2],
      },
      stdio: 'ignore',
    });
    const hits = await scanForSecrets(dir, secrets);
    const forms = (secret: string, where: RegExp) =>
      new Set(hits.filter((h) => h.secret === secret && where.test(h.where)).map((h) => h.form));
    for (const [i, secret] of secrets.entries()) {
      const inForms = forms(secret, new RegExp(`forms-${i + 1}\\.txt$`));
      for (const form of ['literal', 'base64@0', 'base64@1', 'base64@2', 'base64url@0', 'hex'])
        expect(inForms, `${form} of secret ${i + 1}`).toContain(form);
      // Only the third has characters URL encoding changes.
      expect(inForms.has('url'), `url of secret ${i + 1}`).toBe(i === 2);
      expect(forms(secret, /\.gz!gunzip$/).has('literal'), 'gzip').toBe(true);
      expect(hits.some((h) => h.secret === secret && h.in === 'name')).toBe(true);
      expect(hits.some((h) => h.secret === secret && h.in === 'link target')).toBe(true);
    }
    for (const archive of ['bundle.tar!', 'bundle.tar.gz!gunzip!', 'bundle.zip!'])
      expect(
        hits.some((h) => h.where.includes(archive)),
        archive,
      ).toBe(true);
  });
});
