/**
 * Writes synthetic trial results for the analyze benchmark: `count` result.json files (default
 * 100,000) in trial directories under `<dir>/<job>/<trial>/result.json`, over several tasks, two
 * agents and both arms, with a sprinkling of infra and verifier errors. Deterministic (seeded).
 *
 *   npx tsx bench/analyze/generate.ts [DIR] [--count N]
 */

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import type { TrialResult } from '../../src/results/schema.js';
import { mulberry32 } from '../../src/util/random.js';

export const DEFAULT_COUNT = 100_000;
const TASKS = 50;
const AGENTS = [
  { agent: 'claude-code', model: 'claude-sonnet-4-5' },
  { agent: 'codex', model: 'gpt-5-codex' },
] as const;
const ARMS = ['with-skills', 'no-skills'] as const;
const MARKER = '.generated.json';

export function defaultBenchDir(count: number): string {
  return join(tmpdir(), `skill-eval-bench-analyze-${count}`);
}

/** Generates (or reuses, when a marker says the same count is there) the data set; returns its directory. */
export async function generate(dir: string, count: number): Promise<string> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { count?: number };
    if (marker.count === count) return dir;
  } catch {
    // not generated yet
  }
  await rm(dir, { recursive: true, force: true });
  const cells = TASKS * AGENTS.length * ARMS.length;
  const perCell = Math.ceil(count / cells);
  const next = mulberry32(42);
  const limit = pLimit(64);
  const writes: Promise<void>[] = [];
  let written = 0;
  for (let task = 0; task < TASKS && written < count; task++) {
    const taskName = `bench-task-${String(task).padStart(3, '0')}`;
    // Each task has its own difficulty and its own effect of skills (some negative).
    const baseline = next();
    const effect = (next() - 0.3) * 0.6;
    for (const { agent, model } of AGENTS) {
      const jobDir = join(dir, `job-${agent}`);
      for (const arm of ARMS) {
        const rate = Math.min(1, Math.max(0, arm === 'with-skills' ? baseline + effect : baseline));
        for (let index = 1; index <= perCell && written < count; index++, written++) {
          const trialName = `${taskName}__${agent}-${model}__${arm}__${index}`;
          const roll = next();
          const status: TrialResult['status'] =
            roll < 0.01 ? 'infra_error' : roll < 0.015 ? 'verifier_error' : next() < rate ? 'passed' : 'failed';
          const reward =
            status === 'infra_error' || status === 'verifier_error' ? undefined : status === 'passed' ? 1 : 0;
          const totalMs = Math.round(20_000 + next() * 280_000);
          const result: TrialResult = {
            schema: 'skill-eval/trial-result@1',
            skill_eval_version: '0.1.0',
            job_id: `job-${agent}`,
            trial_id: `${agent}-${task}-${arm}-${index}-${written}`,
            trial_name: trialName,
            trial_index: index,
            task: taskName,
            task_checksum: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
            agent,
            model,
            provider: 'docker',
            arm,
            status,
            reward,
            reward_source: reward === undefined ? undefined : 'reward.txt',
            error:
              status === 'infra_error'
                ? { kind: 'infra', phase: 'setup', message: 'container failed to start' }
                : status === 'verifier_error'
                  ? { kind: 'verifier', phase: 'verify', message: 'test.sh exited 2 without a reward' }
                  : undefined,
            timings: {
              started_at: '2025-01-01T00:00:00.000Z',
              finished_at: '2025-01-01T00:05:00.000Z',
              total_ms: totalMs,
              phases: { setup_ms: 3000, agent_ms: totalMs - 8000, verify_ms: 5000 },
            },
            agent_result: {
              final_message: 'Done.',
              commands: Math.floor(next() * 40),
              tool_calls: Math.floor(next() * 60),
              model_calls: 12,
            },
            usage: {
              inputTokens: Math.round(10_000 + next() * 190_000),
              outputTokens: Math.round(1_000 + next() * 9_000),
              cachedInputTokens: 0,
              costUsd: 0.12,
              turns: 12,
            },
            skills:
              arm === 'with-skills'
                ? [
                    {
                      name: 'bench-skill',
                      description: 'A skill for the benchmark',
                      fileCount: 3,
                      bytes: 4096,
                      sha256: 'f'.repeat(64),
                    },
                  ]
                : [],
            skills_activated: arm === 'with-skills' ? (next() < 0.8 ? ['bench-skill'] : []) : undefined,
            verifier: reward === undefined ? undefined : { exit_code: 0, timed_out: false, duration_ms: 5000 },
            retries: [],
            files: { session_log: 'session.jsonl', agent: 'agent', verifier: 'verifier', artifacts: 'artifacts' },
          };
          const trialDir = join(jobDir, trialName);
          writes.push(
            limit(async () => {
              await mkdir(trialDir, { recursive: true });
              await writeFile(join(trialDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
            }),
          );
          // Keep the queue short: memory stays flat whatever the count.
          if (writes.length >= 1024) await Promise.all(writes.splice(0));
        }
      }
    }
  }
  await Promise.all(writes);
  await writeFile(join(dir, MARKER), JSON.stringify({ count }));
  return dir;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const countIndex = args.indexOf('--count');
  const count = countIndex >= 0 ? Number(args[countIndex + 1]) : DEFAULT_COUNT;
  const dir = args.find((arg, i) => !arg.startsWith('--') && i !== countIndex + 1) ?? defaultBenchDir(count);
  const started = performance.now();
  await generate(dir, count);
  console.log(`${count} trial results in ${dir} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
