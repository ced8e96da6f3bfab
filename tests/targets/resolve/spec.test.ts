import { describe, expect, it } from 'vitest';
import { parseTargetSpec, targetSlug } from '../../../src/targets/resolve/spec.js';

describe('target specs', () => {
  it('classifies directories, git URLs and Hugging Face datasets', () => {
    expect(parseTargetSpec('.', '/')).toMatchObject({ kind: 'local', path: '/' });
    expect(parseTargetSpec('openai/gsm8k', '/')).toEqual({
      kind: 'hf',
      spec: 'openai/gsm8k',
      repoId: 'openai/gsm8k',
      revision: undefined,
    });
    expect(parseTargetSpec('openai/gsm8k@e53f048', '/')).toMatchObject({ kind: 'hf', revision: 'e53f048' });
    expect(parseTargetSpec('hf:org/data@v1.0', '/')).toMatchObject({
      kind: 'hf',
      repoId: 'org/data',
      revision: 'v1.0',
    });
    expect(parseTargetSpec('https://huggingface.co/datasets/openai/gsm8k/tree/main', '/')).toMatchObject({
      kind: 'hf',
      repoId: 'openai/gsm8k',
      revision: 'main',
    });
    expect(parseTargetSpec('https://example.org/a/bench.git#v2', '/')).toEqual({
      kind: 'git',
      spec: 'https://example.org/a/bench.git#v2',
      url: 'https://example.org/a/bench.git',
      revision: 'v2',
    });
    expect(parseTargetSpec('file:///tmp/x/bench.git', '/')).toMatchObject({
      kind: 'git',
      url: 'file:///tmp/x/bench.git',
      revision: undefined,
    });
    expect(parseTargetSpec('git@example.org:a/b.git#abc123', '/')).toMatchObject({
      kind: 'git',
      url: 'git@example.org:a/b.git',
      revision: 'abc123',
    });
    expect(() => parseTargetSpec('./no/such/dir', '/')).toThrow(
      /no such directory, and not a git URL or Hugging Face dataset id/,
    );
  });

  it('derives short, filesystem-safe slugs', () => {
    expect(targetSlug(parseTargetSpec('openai/gsm8k', '/'))).toBe('openai-gsm8k');
    expect(targetSlug(parseTargetSpec('https://example.org/Org/Code_Bench.git#v1', '/'))).toBe('org-code_bench');
    expect(targetSlug(parseTargetSpec('git@example.org:a/b.git', '/'))).toBe('a-b');
  });
});
