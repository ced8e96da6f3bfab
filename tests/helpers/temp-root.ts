import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest global setup: the whole run gets one temp root ($TMPDIR for every worker and everything they start),
 * removed when the run ends — whatever a test or a killed trial leaves behind goes with it instead of piling
 * up in the system temp dir run after run.
 */
export default function setup(): () => Promise<void> {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'skill-eval-tests-'));
  process.env.TMPDIR = root;
  return async () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
