import { type Dirent, lstatSync, readdirSync, readlinkSync, unlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { linkLeftOut, linkStaysInside } from '../collected-links.js';

/**
 * Collected logs are the agent's to shape, and once moved out of the trial root they live on the host. As the Docker
 * collector does (src/environments/docker/collect.ts), a symbolic link is kept only when it is relative and stays
 * inside its collected directory (it means the same on the host); any other link would point into the host's file
 * system (or the deleted trial root) and is removed. FIFOs, sockets and devices are removed too: reading one later
 * (to redact it) could block or read a device. Returns each entry left out, with why, in environment terms.
 */
export function dropUnsafeEntries(hostDir: string, envDir: string): string[] {
  const skipped: string[] = [];
  let top: ReturnType<typeof lstatSync>;
  try {
    top = lstatSync(hostDir);
  } catch {
    return skipped;
  }
  if (top.isSymbolicLink()) {
    skipped.push(`${envDir} → ${readlinkSync(hostDir)}: a symbolic link in place of the directory`);
    unlinkSync(hostDir);
  } else if (top.isDirectory()) {
    walk(hostDir, envDir, envDir, skipped);
  }
  return skipped;
}

function walk(hostDir: string, envDir: string, envRoot: string, skipped: string[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(hostDir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const host = join(hostDir, entry.name);
    const envName = posix.join(envDir, entry.name);
    if (entry.isDirectory()) {
      walk(host, envName, envRoot, skipped);
    } else if (entry.isSymbolicLink()) {
      const target = readlinkSync(host);
      if (linkStaysInside(envName, target, envRoot)) continue;
      skipped.push(linkLeftOut(envName, target, envRoot));
      unlinkSync(host);
    } else if (!entry.isFile()) {
      skipped.push(`${envName}: not a regular file, directory or link`);
      unlinkSync(host);
    }
  }
}
