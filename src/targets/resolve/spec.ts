import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UsageError } from '../../errors.js';

/** What a user typed as a target, classified. */
export type TargetSpec =
  | { kind: 'local'; spec: string; path: string }
  | { kind: 'git'; spec: string; url: string; revision?: string | undefined }
  | { kind: 'hf'; spec: string; repoId: string; revision?: string | undefined };

/** A name safe for a directory: lowercase letters, digits, `.`, `_`, `-`. */
export function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return slug || 'target';
}

const HF_REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * Classifies a target spec:
 * - an existing path → local;
 * - `hf://datasets/ORG/NAME[@REV]`, `https://huggingface.co/datasets/ORG/NAME[/tree/REV]`, `hf:ORG/NAME[@REV]`,
 *   or a bare `ORG/NAME[@REV]` that is not a local path → Hugging Face dataset;
 * - `git+URL`, `file://…`, `ssh://…`, `git@…`, `https://….git`, any other `http(s)://` URL → git, with `#REV`.
 */
export function parseTargetSpec(spec: string, cwd: string = process.cwd()): TargetSpec {
  const trimmed = spec.trim();
  if (trimmed === '')
    throw new UsageError('empty target spec', {
      hint: 'give a directory, a git URL or a Hugging Face dataset id (org/name)',
    });
  const hfUrl = /^https?:\/\/(?:www\.)?huggingface\.co\/datasets\/([^/]+\/[^/@#?]+)(?:\/tree\/([^/?#]+))?\/?$/.exec(
    trimmed,
  );
  if (hfUrl)
    return { kind: 'hf', spec, repoId: hfUrl[1]!, revision: hfUrl[2] ? decodeURIComponent(hfUrl[2]) : undefined };
  const hfScheme = /^(?:hf:\/\/datasets\/|hf:)([^@]+?)(?:@(.+))?$/.exec(trimmed);
  if (hfScheme) {
    if (!HF_REPO_ID.test(hfScheme[1]!))
      throw new UsageError(`target ${spec}: not a Hugging Face dataset id`, {
        hint: 'expected ORG/NAME, e.g. hf:openai/gsm8k@main',
      });
    return { kind: 'hf', spec, repoId: hfScheme[1]!, revision: hfScheme[2] };
  }
  const gitPrefixed = trimmed.startsWith('git+') ? trimmed.slice(4) : undefined;
  if (gitPrefixed !== undefined || /^(?:file|ssh|git|https?):\/\//.test(trimmed) || /^[\w.-]+@[\w.-]+:/.test(trimmed)) {
    const raw = gitPrefixed ?? trimmed;
    const hash = raw.lastIndexOf('#');
    const url = hash === -1 ? raw : raw.slice(0, hash);
    const revision = hash === -1 ? undefined : raw.slice(hash + 1) || undefined;
    return { kind: 'git', spec, url, revision };
  }
  const path = resolve(cwd, trimmed);
  if (existsSync(path)) return { kind: 'local', spec, path };
  const bare = /^([^@]+?)(?:@(.+))?$/.exec(trimmed);
  if (bare && HF_REPO_ID.test(bare[1]!) && !trimmed.startsWith('.'))
    return { kind: 'hf', spec, repoId: bare[1]!, revision: bare[2] };
  throw new UsageError(`target ${spec}: no such directory, and not a git URL or Hugging Face dataset id`, {
    hint: 'a target is a directory, a git URL (https://…/repo.git#REV, file:///path/repo#REV) or a Hugging Face dataset (ORG/NAME[@REV], hf:ORG/NAME)',
  });
}

/** The target's short name: the contracts-dir folder and the cache folder use it. */
export function targetSlug(spec: TargetSpec): string {
  if (spec.kind === 'local') return slugify(basename(spec.path));
  if (spec.kind === 'hf') return slugify(spec.repoId.replace('/', '-'));
  const path = spec.url
    .replace(/^[\w+]+:\/\//, '')
    .replace(/^[\w.-]+@[\w.-]+:/, '')
    .replace(/\.git\/?$/, '')
    .replace(/\/+$/, '');
  const parts = path.split(/[/:]/).filter(Boolean);
  return slugify(parts.slice(-2).join('-'));
}
