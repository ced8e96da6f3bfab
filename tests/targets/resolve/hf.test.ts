import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../src/targets/resolve/index.js';
import { type HubServer, startHubServer } from '../../fixtures/targets/hub-server.js';

const FIXTURE = resolve(import.meta.dirname, '../../fixtures/targets/qa-hf');

describe('Hugging Face targets through the Hub file API', () => {
  let hub: HubServer;
  let v2: string;
  beforeAll(async () => {
    v2 = await mkdtemp(join(tmpdir(), 'skill-eval-hub-v2-'));
    await cp(FIXTURE, v2, { recursive: true });
    await writeFile(join(v2, 'data', 'extra.jsonl'), '{"question": "1+1?", "answer": "#### 2"}\n');
    hub = await startHubServer({ 'fixture-org/tiny-math': { revisions: { main: FIXTURE, v2 } } });
  });
  afterAll(async () => {
    await hub.close();
    await rm(v2, { recursive: true, force: true });
  });

  it('fetches a pinned revision with a manifest of sizes and sha256s, then reuses the cache with no network', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    const sha = await hub.shaOf('fixture-org/tiny-math', 'main');
    const first = await resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: hub.endpoint });
    expect(first).toMatchObject({
      kind: 'hf',
      slug: 'fixture-org-tiny-math',
      revision: 'main',
      commit: sha,
      fromCache: false,
    });
    expect(first.dir).toBe(join(cacheDir, 'hf', 'fixture-org-tiny-math', 'snapshots', sha));
    expect(first.manifest!.files.map((f) => f.path)).toEqual([
      'README.md',
      'data/test.jsonl',
      'main/test-00000-of-00001.parquet',
    ]);
    const jsonl = await readFile(join(FIXTURE, 'data/test.jsonl'));
    expect(await readFile(join(first.dir, 'data/test.jsonl'))).toEqual(jsonl);
    const manifest = JSON.parse(await readFile(first.manifestPath!, 'utf8')) as {
      files: { path: string; size: number; sha256: string }[];
    };
    expect(manifest.files[1]).toEqual({
      path: 'data/test.jsonl',
      size: jsonl.length,
      sha256: (await import('node:crypto')).createHash('sha256').update(jsonl).digest('hex'),
    });

    // Pinned by commit: no request at all. Offline by name: the cached ref.
    const before = hub.requests.length;
    const pinned = await resolveTarget(`fixture-org/tiny-math@${sha}`, { cacheDir, hfEndpoint: hub.endpoint });
    expect(pinned).toMatchObject({ commit: sha, fromCache: true, dir: first.dir });
    const offline = await resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: hub.endpoint, offline: true });
    expect(offline).toMatchObject({ commit: sha, fromCache: true });
    expect(hub.requests.length).toBe(before);

    // Hub unreachable: the revision fetched before still resolves.
    const unreachable = await resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: 'http://127.0.0.1:9' });
    expect(unreachable.fromCache).toBe(true);
    expect(unreachable.notes.join(' ')).toMatch(/Hub unreachable/);
  });

  it('pins another revision side by side, and filters files with --include globs', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    const other = await resolveTarget('hf:fixture-org/tiny-math@v2', {
      cacheDir,
      hfEndpoint: hub.endpoint,
      include: ['data/*.jsonl'],
    });
    expect(other.commit).toBe(await hub.shaOf('fixture-org/tiny-math', 'v2'));
    expect(other.manifest!.files.map((f) => f.path)).toEqual(['data/extra.jsonl', 'data/test.jsonl']);
  });

  it('enforces per-file and total size caps before downloading', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    await expect(
      resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: hub.endpoint, maxFileBytes: 500 }),
    ).rejects.toThrow(/is \d+ bytes, over the per-file cap of 500/);
    await expect(
      resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: hub.endpoint, maxTotalBytes: 1000 }),
    ).rejects.toThrow(/over the total cap of 1000/);
  });

  it('says what is wrong: unknown dataset or revision, authentication, offline without a cache', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'skill-eval-cache-'));
    await expect(resolveTarget('fixture-org/nope', { cacheDir, hfEndpoint: hub.endpoint })).rejects.toThrow(
      /fixture-org\/nope@main: not found \(HTTP 404\)/,
    );
    await expect(resolveTarget('fixture-org/tiny-math@nope', { cacheDir, hfEndpoint: hub.endpoint })).rejects.toThrow(
      /not found/,
    );
    await expect(
      resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: hub.endpoint, offline: true }),
    ).rejects.toThrow(/not in the cache .* and offline/);
    const gated = await startHubServer(
      { 'fixture-org/tiny-math': { revisions: { main: FIXTURE } } },
      { token: 'hf_secret_token' },
    );
    try {
      await expect(resolveTarget('fixture-org/tiny-math', { cacheDir, hfEndpoint: gated.endpoint })).rejects.toThrow(
        /HTTP 401 \(authentication\)/,
      );
      const ok = await resolveTarget('fixture-org/tiny-math', {
        cacheDir,
        hfEndpoint: gated.endpoint,
        hfToken: 'hf_secret_token',
      });
      expect(ok.fromCache).toBe(false);
    } finally {
      await gated.close();
    }
  });
});
