import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getAgent } from '../../src/agents/registry.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import {
  baselineFingerprint,
  baselineTaskChecksum,
  canonicalJson,
  type FingerprintInput,
  fingerprintDifferences,
  LIFECYCLE_VERSION,
} from '../../src/trial/fingerprint.js';
import { tempDir } from '../helpers/trials.js';
import { JOB_FIXTURES } from '../jobs/helpers.js';

async function taskCopy(): Promise<string> {
  const dir = join(await tempDir('fingerprint'), 'trivial');
  await cp(join(JOB_FIXTURES, 'trivial'), dir, { recursive: true });
  return dir;
}

async function input(dir: string, overrides: Partial<FingerprintInput> = {}): Promise<FingerprintInput> {
  const task = await loadTaskOrThrow(dir);
  return {
    task,
    taskChecksum: await baselineTaskChecksum(task),
    agent: getAgent('oracle'),
    provider: 'local',
    redact: (text) => text.replaceAll('s3cret', '***'),
    ...overrides,
  };
}

describe('baseline fingerprint', () => {
  it("ignores the task's skill folders but not its tests", async () => {
    const dir = await taskCopy();
    const before = baselineFingerprint(await input(dir));
    await writeFile(
      join(dir, 'skills', 'fixture-skill', 'SKILL.md'),
      '---\nname: fixture-skill\ndescription: x\n---\n',
    );
    expect(baselineFingerprint(await input(dir)).sha256).toBe(before.sha256);
    await writeFile(join(dir, 'tests', 'test.sh'), 'exit 0\n');
    const after = baselineFingerprint(await input(dir));
    expect(after.sha256).not.toBe(before.sha256);
    expect(fingerprintDifferences(before.fields, after.fields)).toEqual([
      {
        field: 'task checksum',
        expected: before.fields.task_checksum.slice(0, 12),
        found: after.fields.task_checksum.slice(0, 12),
      },
    ]);
  });

  it('names each differing field: agent version, model, provider, overrides and timeouts; a missing record', async () => {
    const dir = await taskCopy();
    const base = baselineFingerprint(await input(dir));
    expect(base.fields).toMatchObject({
      lifecycle_version: LIFECYCLE_VERSION,
      agent: 'oracle',
      agent_version: 'oracle',
    });
    const claude = baselineFingerprint(
      await input(dir, { agent: getAgent('claude'), model: 'm', network: 'none', agentTimeoutSec: 5 }),
    );
    expect(claude.fields.agent_version).toMatch(/^@anthropic-ai\/claude-code@\d/);
    expect(fingerprintDifferences(base.fields, claude.fields).map((d) => d.field)).toEqual([
      'agent',
      'agent version',
      'model',
      'limits.network override',
      'limits.agent timeout sec',
    ]);
    const command = baselineFingerprint(
      await input(dir, { agent: getAgent('command', { command: 'run --key s3cret' }) }),
    );
    expect(command.fields.agent_version).toBe('command: run --key ***');
    expect(fingerprintDifferences(base.fields, undefined)).toEqual([
      { field: 'fingerprint', expected: base.sha256.slice(0, 12), found: 'none recorded' },
    ]);
  });

  it('hashes a canonical JSON: key order and undefined values do not matter', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, 'x'] } })).toBe('{"a":{"c":[2,"x"]},"b":1}');
  });
});
