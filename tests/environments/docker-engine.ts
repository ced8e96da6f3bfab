/** Shared by the Docker provider tests: is a real engine here, and small task directories to build. */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { type TreeEntry, writeTree } from '../task/helpers.js';

export const IN_CI = process.env.CI === 'true';
export const BASE_IMAGE = 'skill-eval/base:bookworm';

/** Whether the engine answers and the offline base image exists; why not, otherwise. */
export async function dockerReadiness(): Promise<{ ok: boolean; reason: string }> {
  const docker = new Docker();
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('ping timed out')), 5_000)),
    ]);
  } catch (error) {
    return {
      ok: false,
      reason: `no Docker engine answers (${error instanceof Error ? error.message : String(error)}); run \`bash scripts/setup/docker.sh\``,
    };
  }
  try {
    await docker.getImage(BASE_IMAGE).inspect();
  } catch {
    return { ok: false, reason: `${BASE_IMAGE} is missing; run \`bash scripts/build-base-image.sh\`` };
  }
  return { ok: true, reason: '' };
}

/** Outside CI a missing engine skips the suite, loudly; in CI the suite runs and fails. */
export async function engineGate(suite: string): Promise<boolean> {
  const readiness = await dockerReadiness();
  if (!readiness.ok && !IN_CI) {
    console.warn(
      `\n*** SKIPPING ${suite}: ${readiness.reason}. These tests need a real Docker engine (CI=true makes this a failure). ***\n`,
    );
  }
  return readiness.ok || IN_CI;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

const TASK_BASE: Record<string, TreeEntry> = {
  'instruction.md': 'Do it.\n',
  'tests/test.sh': { content: '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n', mode: 0o755 },
  'solution/solve.sh': { content: '#!/bin/bash\ntrue\n', mode: 0o755 },
};

/** Writes a task directory (task.toml, instruction, tests, solution + `files`) named `name` and loads it. */
export async function makeTask(
  name: string,
  files: Record<string, TreeEntry>,
  taskToml = 'schema_version = "1.1"\n',
): Promise<Task> {
  const dir = join(await mkdtemp(join(tmpdir(), 'skill-eval-docker-test-')), name);
  await writeTree(dir, { ...TASK_BASE, 'task.toml': taskToml, ...files });
  return loadTaskOrThrow(dir);
}

export const quietLog = (): void => undefined;
