import {
  closeSync,
  constants,
  copyFileSync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import tarStream from 'tar-stream';
import { MAX_CAPTURE_BYTES, TailBuffer } from '../../util/process-group.js';
import { linkLeftOut, linkStaysInside } from '../collected-links.js';

/**
 * Extracts the tar the one-exec verification writes (see verify.ts) straight into the trial directory: each
 * collected environment directory (`/logs/agent`, …) lands at its host destination, and the verifier's
 * stdout/stderr files are kept in memory (their tail, as for any command's output), never written to disk. No staging
 * directory, no renames; every call is synchronous (a trial's logs are usually a handful of small files, and a
 * synchronous fs call costs about half the CPU of an async one on a busy machine).
 *
 * The archive's contents are the agent's to choose (it could write anything under /logs), so:
 *   - only names under a collected directory or the two output files are extracted; names with `..` never;
 *   - a file is written only inside directories this extraction created or checked (lstat: a real directory),
 *     opened with O_NOFOLLOW: nothing is ever written through a symbolic link;
 *   - a symbolic link is kept only when it is relative and stays inside its collected directory (it means the
 *     same on the host); a link elsewhere (`/app/out.txt`) would point into the host's file system, so it is
 *     left out and reported in `skipped` — it does not fail the trial;
 *   - hard links become links to (or copies of) files extracted here; devices, FIFOs and the like are skipped;
 *   - modes keep their permission bits under the umask (no setuid/setgid); file times are kept.
 */

export interface CollectRoute {
  /** Absolute environment directory (`/logs/agent`). */
  from: string;
  /** Host directory it becomes. */
  to: string;
  /** How the archive names it: `from` without the leading slash (tar -C /) unless given (the engine names it by its base name). */
  archiveName?: string | undefined;
}

export interface CollectedLogs {
  /** What the verifier printed, as text (its tail, kept as TailBuffer keeps a live command's output). */
  stdout: string;
  stderr: string;
  /** Entries left out, each with why (`/logs/agent/x → /etc/passwd: a symbolic link out of /logs/agent`). */
  skipped: string[];
}

export interface LogsCollector {
  /** Write the exec's stdout (the tar) here; end it when the exec ended. */
  sink: Writable;
  /** Settles when the sink was ended and every entry is placed; rejects on a host file-system error. */
  done: Promise<CollectedLogs>;
}

/** The tail of one output file, decoded as it arrives (multi-byte characters split across chunks kept whole). */
class OutputTail {
  private readonly decoder = new StringDecoder('utf8');
  private readonly tail: TailBuffer;
  constructor(limit: number) {
    this.tail = new TailBuffer(limit);
  }
  push(chunk: Buffer): void {
    this.tail.push(this.decoder.write(chunk));
  }
  toString(): string {
    this.tail.push(this.decoder.end());
    return this.tail.toString();
  }
}

/** `/logs/agent/` → `logs/agent`, as tar -C / names it. */
function archiveKey(envPath: string): string {
  return posix.normalize(envPath).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The verifier's stdout or stderr tail when `path` is one of the two files in `outputDir`. */
function verifierOutput(
  outputs: { stdout: OutputTail; stderr: OutputTail },
  outputDir: string | undefined,
  path: string,
): OutputTail | undefined {
  if (outputDir === undefined) return undefined;
  if (path === `${outputDir}/stdout`) return outputs.stdout;
  return path === `${outputDir}/stderr` ? outputs.stderr : undefined;
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

type Keyed = { key: string; from: string; to: string };
/** Where an archive name goes: its route, host path, path inside the route, and environment path. */
type Place = { route: Keyed; host: string; relative: string; envName: string };
type Header = tarStream.Header;
type EntryStream = tarStream.ExtractEvents['entry'][1];
type Next = tarStream.ExtractEvents['entry'][2];

/** One extraction: what it created and wrote so far, what it captured and what it left out. */
class LogExtractor {
  /** Host directories that are real directories (created or checked here): files may be written inside. */
  private readonly directories = new Set<string>();
  /** Host files written here, by archive name: targets for hard-link entries. */
  private readonly written = new Map<string, string>();
  readonly outputs: { stdout: OutputTail; stderr: OutputTail };
  readonly skipped: string[] = [];
  private readonly routes: Keyed[];

  constructor(
    routes: readonly CollectRoute[],
    private readonly outputDir: string | undefined,
    limit: number,
  ) {
    this.routes = routes.map((route) => ({
      key: route.archiveName ?? archiveKey(route.from),
      from: posix.normalize(route.from).replace(/\/+$/, ''),
      to: route.to,
    }));
    this.outputs = { stdout: new OutputTail(limit), stderr: new OutputTail(limit) };
  }

  result(): CollectedLogs {
    return { stdout: this.outputs.stdout.toString(), stderr: this.outputs.stderr.toString(), skipped: this.skipped };
  }

  /** tar-stream's entry handler: every entry is captured, placed, or drained with the reason it was left out. */
  onEntry(header: Header, stream: EntryStream, next: Next): void {
    // A broken archive destroys the entry's stream too; the error reaches `done` through the extractor.
    stream.on('error', () => undefined);
    const drain = (reason?: string): void => {
      if (reason) this.skipped.push(reason);
      stream.on('end', () => next());
      stream.resume();
    };
    try {
      const raw = header.name.replace(/\/+$/, '');
      const asRoot = `/${raw}`;
      const output =
        (header.type ?? 'file') === 'file' ? verifierOutput(this.outputs, this.outputDir, asRoot) : undefined;
      if (output) {
        stream.on('data', (chunk: unknown) => output.push(chunk as Buffer));
        stream.on('end', () => next());
        return;
      }
      const outcome = this.place(raw, header);
      if (typeof outcome === 'object') this.writeFile(outcome, raw, header, stream, next);
      else drain(outcome);
    } catch (error) {
      stream.resume();
      next(error as Error);
    }
  }

  /** Places a non-file entry (or checks a file's destination): undefined when done, else why it was left out. */
  private place(raw: string, header: Header): string | undefined | Place {
    const asRoot = `/${raw}`;
    const type = header.type ?? 'file';
    const { outputDir } = this;
    if (outputDir !== undefined && (asRoot === outputDir || asRoot.startsWith(`${outputDir}/`))) return undefined;
    if (raw.split('/').some((part) => part === '..' || part === '.' || part === ''))
      return `${asRoot}: not a plain path`;
    const place = this.locate(raw);
    if (!place) return `${asRoot}: outside the collected directories`;
    const { route, host, relative, envName: name } = place;
    if (type === 'directory') {
      const made = this.ensureDirectory(host, route.to, header.mode ?? 0o755);
      return made ? undefined : `${name}: something other than a directory is in its place`;
    }
    if (relative === '' && type === 'file') {
      // A single file was asked for: its host parent is the caller's.
      mkdirSync(dirname(host), { recursive: true });
    } else if (relative === '') {
      return `${name}: a ${type} where a directory was expected`;
    } else if (!this.ensureDirectory(dirname(host), route.to)) {
      return `${name}: one of its directories is not a directory on the host`;
    }
    if (type === 'symlink') return this.writeSymlink(place, header.linkname ?? '');
    if (type === 'link') return this.writeHardLink(place, raw, header.linkname ?? '');
    if (type !== 'file' && type !== 'contiguous-file') return `${name}: a ${type}, not a file, directory or link`;
    return place;
  }

  private locate(name: string): Place | undefined {
    for (const route of this.routes) {
      if (name === route.key) return { route, host: route.to, relative: '', envName: route.from };
      if (name.startsWith(`${route.key}/`)) {
        const relative = name.slice(route.key.length + 1);
        return { route, host: join(route.to, ...relative.split('/')), relative, envName: `${route.from}/${relative}` };
      }
    }
    return undefined;
  }

  /** Makes `dir` (the route's destination or below it) a checked real directory; false when something else is there. */
  private ensureDirectory(dir: string, routeRoot: string, mode = 0o755): boolean {
    if (this.directories.has(dir)) return true;
    if (dir !== routeRoot && !this.ensureDirectory(dirname(dir), routeRoot)) return false;
    try {
      // The destination's own parent is the trial directory (ours): created as needed.
      mkdirSync(dir, { recursive: dir === routeRoot, mode: (mode & 0o777) | 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!lstatSync(dir).isDirectory()) return false;
    this.directories.add(dir);
    return true;
  }

  /** Removes a non-directory at `path` so an entry can take its place (a later entry of the same name wins, as with tar). */
  private clear(path: string): boolean {
    try {
      if (lstatSync(path).isDirectory()) return false;
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return true;
  }

  private writeSymlink({ route, host, envName: name }: Place, target: string): string | undefined {
    if (!linkStaysInside(name, target, route.from)) return linkLeftOut(name, target, route.from);
    if (!this.clear(host)) return `${name}: a directory is in its place`;
    symlinkSync(target, host);
    return undefined;
  }

  private writeHardLink({ host, envName: name }: Place, raw: string, linkname: string): string | undefined {
    const source = this.written.get(linkname.replace(/\/+$/, ''));
    if (source === undefined) return `${name}: a hard link to ${linkname || '?'}, which was not extracted`;
    if (!this.clear(host)) return `${name}: a directory is in its place`;
    try {
      linkSync(source, host);
    } catch {
      copyFileSync(source, host);
    }
    this.written.set(raw, host);
    return undefined;
  }

  /** Streams a file entry to its place, never through a symbolic link; its time is kept. */
  private writeFile(place: Place, raw: string, header: Header, stream: EntryStream, next: Next) {
    const fd = this.openForWrite(place, header.mode ?? 0o644);
    if (fd === undefined) {
      this.skipped.push(`${place.envName}: a directory is in its place`);
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    let failed: unknown;
    let open = true;
    const close = (): void => {
      if (open) closeSync(fd);
      open = false;
    };
    stream.on('data', (chunk: unknown) => {
      if (failed !== undefined) return;
      try {
        writeSync(fd, chunk as Buffer);
      } catch (error) {
        failed = error;
      }
    });
    stream.on('error', close);
    stream.on('end', () => {
      try {
        if (failed === undefined && header.mtime) futimesSync(fd, new Date(), header.mtime);
      } catch {
        // the time is a nicety
      }
      close();
      this.written.set(raw, place.host);
      next(failed as Error | undefined);
    });
  }

  /** The file opened for writing (O_NOFOLLOW), or undefined when a directory is in its place. */
  private openForWrite({ host }: Place, mode: number): number | undefined {
    try {
      return openSync(host, WRITE_FLAGS, mode & 0o777);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ELOOP: a symbolic link of the same name came earlier; the file replaces it, never writes through it.
      if (code !== 'ELOOP' && code !== 'EISDIR') throw error;
      if (!this.clear(host)) return undefined;
      return openSync(host, WRITE_FLAGS, mode & 0o777);
    }
  }
}

/**
 * @param outputDir the verifier's output directory in the environment (verify.ts), when the archive has one: its
 *   `stdout` and `stderr` entries are captured, nothing else of it is extracted.
 */
export function collectLogs(
  routes: readonly CollectRoute[],
  outputDir: string | undefined,
  limit = MAX_CAPTURE_BYTES,
): LogsCollector {
  const extractor = new LogExtractor(routes, outputDir, limit);
  const extract = tarStream.extract();
  const done = new Promise<CollectedLogs>((resolve, reject) => {
    extract.on('finish', () => resolve(extractor.result()));
    extract.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => extractor.onEntry(header, stream, next));
  return { sink: extract as unknown as Writable, done };
}
