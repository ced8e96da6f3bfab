import { posix } from 'node:path';

/** An audit script's output, parsed: the facts of the environment scan and the snapshot of each area. */
export interface ScanOutput {
  skillFiles: string[];
  skillDirs: string[];
  present: Set<string>;
  /** The file-system search stopped at its time bound. */
  incomplete: boolean;
  /** area → path → signature (type, size, mtime; a digest for the interpreter and skill files). */
  areas: Map<string, Map<string, string>>;
}

export interface Change {
  area: string;
  change: 'added' | 'changed' | 'removed';
  path: string;
}

/** Parses `TAG<TAB>PATH[<TAB>SIGNATURE]` lines; anything else (a stray message) is ignored. */
export function parseScan(stdout: string): ScanOutput {
  const out: ScanOutput = { skillFiles: [], skillDirs: [], present: new Set(), incomplete: false, areas: new Map() };
  for (const line of stdout.split('\n')) {
    const [tag = '', path = '', signature = ''] = line.split('\t');
    if (tag === 'incomplete') out.incomplete = true;
    if (path === '') continue;
    if (tag === 'skill_file') out.skillFiles.push(path);
    else if (tag === 'skill_dir') out.skillDirs.push(path);
    else if (tag === 'present') out.present.add(path);
    else if (tag.startsWith('snap:')) areaOf(out, tag.slice(5)).set(path, signature);
  }
  out.skillFiles = [...new Set(out.skillFiles)];
  return out;
}

function areaOf(out: ScanOutput, area: string): Map<string, string> {
  let entries = out.areas.get(area);
  if (!entries) {
    entries = new Map();
    out.areas.set(area, entries);
  }
  return entries;
}

/**
 * What changed between two snapshots, area by area. A directory's own mtime moves with its entries: only its
 * appearing or going counts. A new PATH tool counts only when it shadows a name the verifier had before (an agent
 * installing a tool it needs is no tampering; a second `python` earlier in PATH is). A `read-only` entry (a tool in
 * a folder nobody can write to, listed when a writable folder's tool has its name) existed before and still does,
 * whichever scan listed it.
 */
export function diffSnapshots(before: ScanOutput, after: ScanOutput): Change[] {
  const changes: Change[] = [];
  const areas = new Set([...before.areas.keys(), ...after.areas.keys()]);
  for (const area of areas) {
    const old = before.areas.get(area) ?? new Map<string, string>();
    const now = after.areas.get(area) ?? new Map<string, string>();
    const oldNames = area === 'path_tools' ? toolNamesBefore(old, now) : undefined;
    for (const [path, signature] of now) {
      const was = old.get(path);
      if (was === undefined) {
        if (signature === READ_ONLY) continue;
        if (!oldNames || oldNames.has(posix.basename(path))) changes.push({ area, change: 'added', path });
      } else if (was !== signature && !isDirectory(signature)) changes.push({ area, change: 'changed', path });
    }
    for (const [path, signature] of old)
      if (!now.has(path) && signature !== READ_ONLY) changes.push({ area, change: 'removed', path });
  }
  return changes;
}

const READ_ONLY = 'read-only';

/** The tool names the verifier had: every tool listed before, and every read-only one (it cannot be new). */
function toolNamesBefore(old: Map<string, string>, now: Map<string, string>): Set<string> {
  const names = new Set([...old.keys()].map((path) => posix.basename(path)));
  for (const [path, signature] of now) if (signature === READ_ONLY) names.add(posix.basename(path));
  return names;
}

function isDirectory(signature: string): boolean {
  return signature.startsWith('d ');
}
