import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file's content, or content plus mode. */
export type TreeEntry = string | { content: string; mode: number };

/** Writes `files` (relative path → content) under `root`. */
export async function writeTree(root: string, files: Record<string, TreeEntry>): Promise<void> {
  for (const [relativePath, entry] of Object.entries(files)) {
    const path = join(root, relativePath);
    await mkdir(dirname(path), { recursive: true });
    const content = typeof entry === 'string' ? entry : entry.content;
    await writeFile(path, content);
    if (typeof entry !== 'string') await chmod(path, entry.mode);
  }
}

export const HEALTHY_TASK: Record<string, TreeEntry> = {
  'task.toml': 'version = "1.0"\n',
  'instruction.md': 'Create hello.txt.\n',
  'tests/test.sh': {
    content:
      '#!/bin/bash\nmkdir -p /logs/verifier\n[ -f /app/hello.txt ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    mode: 0o755,
  },
  'solution/solve.sh': { content: '#!/bin/bash\necho hello > /app/hello.txt\n', mode: 0o755 },
};

/** A temporary directory, removed by `cleanup()`. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'skill-eval-task-test-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
