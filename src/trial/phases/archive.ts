import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Workspace } from '../../environments/types.js';
import { archiveWorkdir, WORKSPACE_ARCHIVE } from '../../environments/workspace-archive.js';
import { errorMessage } from '../../errors.js';
import type { WorkspaceBlock } from '../../results/schema.js';
import { NOTE_SUFFIX } from '../../util/redact-tree.js';
import type { TrialContext } from '../types.js';

/** The cap on a trial's workspace archive unless the job sets one (`eval --workspace-archive-max-mb`). */
export const DEFAULT_ARCHIVE_MAX_BYTES = 50 * 1024 * 1024;

/**
 * Between the agent and verification (which removes what the agent planted): the workdir as the agent left it goes
 * to `workspace.tar.gz` in the trial directory, so `skill-eval regrade` can verify it again. Never fails the trial:
 * an archive over the cap, or one that could not be written, is a note in the result.
 */
export async function archiveWorkspace(trial: TrialContext, workspace: Workspace): Promise<WorkspaceBlock> {
  const maxBytes = trial.runtime.workspaceArchiveMaxBytes ?? DEFAULT_ARCHIVE_MAX_BYTES;
  if (maxBytes <= 0) return { max_bytes: 0, note: 'not archived: turned off (--workspace-archive-max-mb 0)' };
  const started = performance.now();
  try {
    const written = await archiveWorkdir(workspace, join(trial.runtime.trialDir, WORKSPACE_ARCHIVE), maxBytes);
    if (!written.written) {
      trial.log.record({ type: 'note', text: `workspace not archived: ${written.reason}` });
      return { max_bytes: maxBytes, note: `not archived: ${written.reason}` };
    }
    return { archive: WORKSPACE_ARCHIVE, bytes: written.bytes, max_bytes: maxBytes };
  } catch (error) {
    const reason = `archiving the workdir failed: ${errorMessage(error)}`;
    trial.log.record({ type: 'note', text: `workspace not archived: ${reason}` });
    return { max_bytes: maxBytes, note: `not archived: ${reason}` };
  } finally {
    trial.clock.record('archive', Math.round(performance.now() - started));
  }
}

/**
 * Once the trial directory is redacted: the archive's size and sha256 as kept (redaction may have rewritten it, or
 * removed it and left a note in its place).
 */
export async function sealArchive(
  trialDir: string,
  block: WorkspaceBlock | undefined,
): Promise<WorkspaceBlock | undefined> {
  if (!block?.archive) return block;
  const path = join(trialDir, block.archive);
  if (!existsSync(path)) {
    const removed = existsSync(`${path}${NOTE_SUFFIX}`);
    const why = removed ? `removed by redaction (see ${block.archive}${NOTE_SUFFIX})` : 'the archive is gone';
    return { max_bytes: block.max_bytes, note: `not archived: ${why}` };
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { ...block, bytes: statSync(path).size, sha256: hash.digest('hex') };
}
