import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTrialResult } from '../../src/results/read-batch.js';
import { ARMS, TRIAL_STATUSES, trialResultSchema } from '../../src/results/schema.js';

const FIXTURE = resolve(
  import.meta.dirname,
  '../fixtures/results/jobs/demo-job/superlint_demo__claude-code-claude-sonnet-4-5__no-skills__4/result.json',
);

type Json = Record<string, unknown>;

/** A fixture result with every optional field of the schema present, so every field gets mutated. */
async function fullResult(): Promise<Json> {
  const result = JSON.parse(await readFile(FIXTURE, 'utf8')) as Json;
  return {
    ...result,
    rewards: { reward: 1, lint: 0.5 },
    error: { ...(result.error as Json), retryable: true },
    agent_result: { ...(result.agent_result as Json), model_calls: 3 },
    usage: { ...(result.usage as Json), costUsd: 0.1, costEstimated: true, turns: 4 },
    skills: [{ name: 's', description: 'd', fileCount: 1, bytes: 10, sha256: 'abc' }],
    skills_activated: ['s'],
    limits: {
      cpus: 'enforced',
      memory: 'not enforced',
      storage: 'not applicable',
      pids: 'enforced',
      network: 'enforced',
      notes: ['n'],
    },
    retries: [{ attempt: 1, status: 'infra_error', message: 'm', at: '2025-06-01T10:00:00.000Z' }],
  };
}

/** Every path to a value (object keys and array items), depth first. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const found: (string | number)[][] = [];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) found.push([...prefix, index], ...paths(item, [...prefix, index]));
  } else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) found.push([...prefix, key], ...paths(item, [...prefix, key]));
  return found;
}

function withValue(
  root: Json,
  path: (string | number)[],
  replace: (parent: Record<string | number, unknown>, key: string | number) => void,
): Json {
  const copy = structuredClone(root);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  replace(parent, path.at(-1)!);
  return copy;
}

const REPLACEMENTS: unknown[] = [
  null,
  'x',
  '',
  0,
  -1,
  1.5,
  2 ** 53,
  Number.POSITIVE_INFINITY,
  true,
  [],
  {},
  ['x'],
  { a: 1 },
  'passed',
  'enforced',
  'infra',
];

describe('isTrialResult, the hand-written twin of trialResultSchema', () => {
  it('accepts the fixture with and without its optional fields', async () => {
    const full = await fullResult();
    expect(trialResultSchema.safeParse(full).success).toBe(true);
    expect(isTrialResult(full)).toBe(true);
    expect(isTrialResult(JSON.parse(await readFile(FIXTURE, 'utf8')) as Json)).toBe(true);
  });

  it('agrees with the schema on every field removed or replaced', async () => {
    const full = await fullResult();
    const disagreements: string[] = [];
    let cases = 0;
    for (const path of paths(full)) {
      const variants = [
        withValue(full, path, (parent, key) => {
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
        }),
        ...REPLACEMENTS.map((replacement) =>
          withValue(full, path, (parent, key) => {
            parent[key] = replacement;
          }),
        ),
      ];
      for (const variant of variants) {
        cases++;
        const expected = trialResultSchema.safeParse(variant).success;
        if (isTrialResult(variant) !== expected)
          disagreements.push(`${path.join('.')} → ${JSON.stringify(variant).slice(0, 80)}: schema says ${expected}`);
      }
    }
    expect(cases).toBeGreaterThan(1000);
    expect(disagreements).toEqual([]);
  });

  it('knows every status and arm of the schema (its enums are repeated, not imported)', async () => {
    const full = await fullResult();
    for (const status of TRIAL_STATUSES) expect(isTrialResult({ ...full, status }), status).toBe(true);
    for (const arm of ARMS) expect(isTrialResult({ ...full, arm }), arm).toBe(true);
  });

  it('accepts unknown keys, as the schema (which strips them) does', async () => {
    const full = await fullResult();
    const extended = {
      ...full,
      future_field: { anything: [1, null] },
      timings: { ...(full.timings as Json), extra: 'x' },
    };
    expect(trialResultSchema.safeParse(extended).success).toBe(true);
    expect(isTrialResult(extended)).toBe(true);
  });
});
