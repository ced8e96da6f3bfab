import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/environments/local.js';
import type { Workspace } from '../../src/environments/types.js';
import { archiveWorkdir, restoreWorkdir } from '../../src/environments/workspace-archive.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES } from '../jobs/helpers.js';

/** The workspace without its own archive methods: what a provider that has none gets (the generic path). */
function withoutArchiveMethods(ws: Workspace): Workspace {
  return {
    id: ws.id,
    paths: ws.paths,
    limits: ws.limits,
    exec: ws.exec.bind(ws),
    upload: ws.upload.bind(ws),
    writeFile: ws.writeFile.bind(ws),
    download: ws.download.bind(ws),
    readFile: ws.readFile.bind(ws),
    remove: ws.remove.bind(ws),
    stopAll: ws.stopAll.bind(ws),
    dispose: ws.dispose.bind(ws),
  };
}

describe('workspace archive', () => {
  it('round-trips a workdir with the workspace methods and with the generic download/upload path, replacing what was there', async () => {
    const provider = createLocalProvider();
    const task = await loadTaskOrThrow(join(JOB_FIXTURES, 'trivial'));
    const prepared = await provider.prepare(task, { jobId: 'archive', forceBuild: false, log: () => undefined });
    const open = (name: string) =>
      provider.createWorkspace(prepared, { jobId: 'archive', trialId: name, trialName: name });
    const out = await tempDir('workspace-archive');
    const source = await open('source');
    await source.exec('mkdir -p sub && echo one > sub/one.txt && echo two > two.txt');
    for (const [name, ws] of [
      ['own', source],
      ['generic', withoutArchiveMethods(source)],
    ] as const) {
      const file = join(out, `${name}.tar.gz`);
      const written = await archiveWorkdir(ws, file, 1024 * 1024);
      expect(written).toEqual({ written: true, bytes: (await readFile(file)).length });
      expect(await archiveWorkdir(ws, join(out, `${name}-capped.tar.gz`), 10)).toEqual({
        written: false,
        reason: expect.stringContaining('would exceed the cap of 10 bytes'),
      });
      const target = await open(`target-${name}`);
      await writeFile(join(target.paths.workdir, 'stale.txt'), 'from the fresh environment');
      await restoreWorkdir(name === 'own' ? target : withoutArchiveMethods(target), file);
      const listing = await target.exec('find . -type f | sort && cat sub/one.txt two.txt');
      expect(listing.stdout).toBe('./sub/one.txt\n./two.txt\none\ntwo\n');
      await target.dispose();
    }
    await source.dispose();
  });
});
