import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * What `eval --skill VALUE` names, classified (pure but for one question: is VALUE an existing directory?):
 * - a local directory: a skill folder (holds SKILL.md) or a folder of skill folders;
 * - a git repository: `https://…`, `http://…`, `ssh://…`, `git://…`, `file://…`, scp-like `user@host:path`,
 *   `git+URL` or `git+PATH`, or a local path ending in `.git` — each with optional `#REF` (branch, tag, commit)
 *   and `:SUBDIR` (`URL#REF:SUBDIR`; without a ref, a `:` in the URL's path starts the subdir);
 * - `ORG/NAME[@REF][:SUBDIR]`: https://github.com/ORG/NAME (when no such local directory exists).
 */
export type SkillSpec = LocalSkillSpec | GitSkillSpec;

export interface LocalSkillSpec {
  kind: 'path';
  /** The flag value as given. */
  spec: string;
  /** Absolute path. */
  path: string;
}

export interface GitSkillSpec {
  kind: 'git';
  spec: string;
  /** What git fetches from: a URL, or an absolute path of a local repository. */
  url: string;
  /** Branch, tag or commit; the remote's HEAD when absent. */
  ref?: string | undefined;
  /** `/`-separated folder inside the repository; the root when absent. */
  subdir?: string | undefined;
}

const SCHEME_URL = /^(?:https?|ssh|git|file):\/\//;
const SCP_LIKE = /^[\w.-]+@[\w.-]+:(?!\/\/)/;
const GITHUB = /^([A-Za-z0-9][\w.-]*)\/([\w.-]+?)(?:@([^:]+))?(?::(.*))?$/;
const LOCAL_PATH = /^(?:\/|\.\.?(?:\/|$)|~(?:\/|$))/;

const FORMS =
  'a directory holding SKILL.md (or skill folders), a git URL (https://…, ssh://…, file://…, git@host:path, a local path ending in .git, git+PATH) with optional #REF and :SUBDIR, or ORG/NAME[@REF] on GitHub';

function usage(value: string, message: string, expected = FORMS): UsageError {
  return new UsageError(`--skill ${publicUrl(value)}: ${message}`, { hint: `expected ${expected}` });
}

const HTTP_USERINFO = /^((?:git\+)?https?:\/\/)([^@/]+)@/;

/**
 * The credentials of an http(s) URL (`https://user:TOKEN@host/…`, `https://TOKEN@host/…`): secrets for the
 * Redactor. The password when there is one, else the user part (where a token often sits).
 */
export function skillSpecSecrets(values: readonly string[]): string[] {
  const secrets: string[] = [];
  for (const value of values) {
    const userinfo = HTTP_USERINFO.exec(value.trim())?.[2];
    if (userinfo === undefined) continue;
    const [user = '', password] = userinfo.split(':');
    const secret = password ?? user;
    if (secret !== '') secrets.push(secret, decodeURIComponent(secret));
  }
  return secrets;
}

/** The URL as results and job files record it: an http(s) URL without its credentials. */
export function publicUrl(url: string): string {
  return url.replace(HTTP_USERINFO, '$1');
}

/**
 * Canonical text of a spec: what job.json records and `--resume` parses again (local paths made absolute, no
 * credentials: a resumed job fetches through a credential helper, or not at all when the commit is cached).
 */
export function formatSkillSpec(spec: SkillSpec): string {
  if (spec.kind === 'path') return spec.path;
  const subdir = spec.subdir ? `:${spec.subdir}` : '';
  const url = publicUrl(spec.url);
  if (spec.ref) return `${url}#${spec.ref}${subdir}`;
  // A subdir without a ref needs the `#` form when the URL's path could hold a colon of its own.
  return subdir ? `${url}#${subdir}` : url;
}

/** Where the repository path of a URL starts: after `scheme://authority`, after `host:` (scp-like), else 0. */
function pathStart(url: string): number {
  const scheme = /^[a-z+]+:\/\/[^/]*/.exec(url);
  if (scheme) return scheme[0].length;
  const scp = SCP_LIKE.exec(url);
  return scp ? scp[0].length : 0;
}

/** `git check-ref-format`'s main rules, and no leading `-` (it would read as an option). */
function checkRef(value: string, ref: string): string {
  if (ref === '') throw usage(value, 'empty ref after #', 'a branch, tag or commit after #, e.g. URL#v1.2');
  if (/[\s~^:?*[\\]|\.\.|^-|\/$|\.lock$|@\{/.test(ref))
    throw usage(value, `invalid git ref ${JSON.stringify(ref)}`, 'a branch, tag or commit name git accepts');
  return ref;
}

/** A subdir inside the repository: relative, no `..`, `/`-separated, without leading or trailing slashes. */
function checkSubdir(value: string, subdir: string | undefined): string | undefined {
  if (subdir === undefined) return undefined;
  const trimmed = subdir.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return undefined;
  if (trimmed.split('/').some((part) => part === '..' || part === '.' || part === ''))
    throw usage(value, `invalid subdir ${JSON.stringify(subdir)}`, 'a folder inside the repository, e.g. :skills/pdf');
  return trimmed;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** Splits `URL[#REF][:SUBDIR]`; a local repository path is made absolute. */
function gitSpec(value: string, raw: string, cwd: string): GitSkillSpec {
  let url = raw;
  let ref: string | undefined;
  let subdir: string | undefined;
  const hash = raw.indexOf('#');
  if (hash !== -1) {
    url = raw.slice(0, hash);
    const rest = raw.slice(hash + 1);
    const colon = rest.indexOf(':');
    ref = colon === -1 ? rest : rest.slice(0, colon);
    subdir = colon === -1 ? undefined : rest.slice(colon + 1);
    // `URL#:SUBDIR`: the default branch, in a subdir.
    ref = ref === '' && colon !== -1 ? undefined : checkRef(value, ref);
  } else {
    const colon = raw.indexOf(':', pathStart(raw));
    if (colon !== -1) {
      url = raw.slice(0, colon);
      subdir = raw.slice(colon + 1);
    }
  }
  if (url === '') throw usage(value, 'no repository before # or :');
  if (!SCHEME_URL.test(url) && !SCP_LIKE.test(url)) url = resolve(cwd, expandHome(url));
  // `spec` is for messages: without the credentials an http(s) URL may carry.
  const shown = publicUrl(value.trim());
  return { kind: 'git', spec: shown, url: url.replace(/\/+$/, ''), ref, subdir: checkSubdir(shown, subdir) };
}

function isDirectory(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The repository part of a local `PATH.git[#REF][:SUBDIR]` value, when it has that shape. */
function localRepoPath(value: string): string | undefined {
  const match = /^(.*?\.git)\/?(?:[#:].*)?$/.exec(value);
  return match?.[1];
}

/** Classifies one `--skill` value; a malformed one is a UsageError naming it. */
export function parseSkillSpec(value: string, cwd: string = process.cwd()): SkillSpec {
  const trimmed = value.trim();
  if (trimmed === '') throw usage(value, 'empty value');
  if (trimmed.startsWith('-')) throw usage(value, 'looks like a flag, not a skill source');
  if (trimmed.startsWith('git+')) return gitSpec(value, trimmed.slice(4), cwd);
  if (SCHEME_URL.test(trimmed) || SCP_LIKE.test(trimmed)) return gitSpec(value, trimmed, cwd);
  const pathLike = LOCAL_PATH.test(trimmed) || isAbsolute(trimmed);
  const repo = localRepoPath(trimmed);
  // `./skills.git#v1:sub`: a local repository (a bare `org/name.git` is GitHub unless it exists here).
  if (repo !== undefined && (pathLike || existsSync(resolve(cwd, repo)))) return gitSpec(value, trimmed, cwd);
  const path = resolve(cwd, expandHome(trimmed));
  if (pathLike || isDirectory(path)) return { kind: 'path', spec: value, path };
  const github = GITHUB.exec(trimmed);
  if (github) {
    const [, org, name, ref, subdir] = github;
    return {
      kind: 'git',
      spec: value,
      url: `https://github.com/${org}/${name!.replace(/\.git$/, '')}`,
      ref: ref === undefined ? undefined : checkRef(value, ref),
      subdir: checkSubdir(value, subdir),
    };
  }
  throw usage(value, 'no such directory, and not a git URL or ORG/NAME');
}
