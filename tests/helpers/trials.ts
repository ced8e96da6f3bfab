import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agents } from '../../src/agents/registry.js';
import type { Arm } from '../../src/agents/types.js';
import type { EnvironmentProvider } from '../../src/environments/types.js';
import type { JudgeSettings } from '../../src/graders/types.js';
import type { TrialResult } from '../../src/results/schema.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { runTrial } from '../../src/trial/run-trial.js';
import { Redactor } from '../../src/util/secrets.js';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures');
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export async function loadFixtureTask(name: string): Promise<Task> {
  return loadTaskOrThrow(join(FIXTURES, 'lifecycle', name));
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `skill-eval-test-${prefix}-`));
}

export interface RunOneOptions {
  provider: EnvironmentProvider;
  task: Task;
  agent?: keyof typeof agents;
  arm?: Arm;
  trialIndex?: number;
  env?: Record<string, string>;
  secrets?: string[];
  resultsDir?: string;
  signal?: AbortSignal;
  agentTimeoutSec?: number;
  /** Judges of llm_rubric graders (default: none configured, so a judge finds no key). */
  judge?: JudgeSettings;
}

/** Runs one trial through the real lifecycle and returns its result and trial directory. */
export async function runOne(options: RunOneOptions): Promise<{ result: TrialResult; trialDir: string }> {
  const resultsDir = options.resultsDir ?? (await tempDir('results'));
  const trialDir = join(resultsDir, `${options.task.name}-${options.arm ?? 'with-skills'}-${options.trialIndex ?? 1}`);
  let prepared: ReturnType<EnvironmentProvider['prepare']> | undefined;
  const result = await runTrial(
    {
      jobId: 'test-job',
      task: options.task,
      agent: agents[options.agent ?? 'oracle'],
      arm: options.arm ?? 'with-skills',
      trialIndex: options.trialIndex ?? 1,
    },
    {
      provider: options.provider,
      prepare: () =>
        (prepared ??= options.provider.prepare(options.task, {
          jobId: 'test-job',
          forceBuild: false,
          log: () => undefined,
        })),
      trialDir,
      env: options.env ?? {},
      redactor: new Redactor(options.secrets ?? []),
      signal: options.signal,
      agentTimeoutSec: options.agentTimeoutSec,
      judge: options.judge ?? { env: {} },
      // The lifecycle rules check the isolation and tamper audits too.
      audit: true,
    },
  );
  return { result, trialDir };
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}
