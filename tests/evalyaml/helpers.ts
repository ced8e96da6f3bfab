import { randomBytes } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { EnvironmentProvider, Workspace } from '../../src/environments/types.js';
import { loadEvalYaml } from '../../src/evalyaml/load.js';
import { convertIntoCache } from '../../src/evalyaml/write.js';
import { loadTaskOrThrow } from '../../src/task/load.js';
import type { Task } from '../../src/task/types.js';
import { FIXTURES, tempDir } from '../helpers/trials.js';

export const SUPERLINT = join(FIXTURES, 'evalyaml', 'superlint');

/**
 * A copy of the superlint skill whose eval has only its deterministic grader (no judge needed), on `base`,
 * converted into a cache under `results`, and loaded as a task.
 */
export async function convertedSuperlint(base: string): Promise<{ task: Task; skillDir: string; results: string }> {
  const root = await tempDir('evalyaml-run');
  const skillDir = join(root, 'superlint');
  await cp(SUPERLINT, skillDir, { recursive: true });
  const yaml = await readFile(join(skillDir, 'eval.yaml'), 'utf8');
  const deterministicOnly = yaml.slice(0, yaml.indexOf('      - type: llm_rubric')).replace('weight: 0.7', 'weight: 1');
  await writeFile(
    join(skillDir, 'eval.yaml'),
    `${deterministicOnly.replace('base: node:20-slim', `base: ${base}`)}\n    solution: solve.sh\n`,
  );
  const loaded = await loadEvalYaml(join(skillDir, 'eval.yaml'), { cwd: skillDir });
  expect([...loaded.problems, ...loaded.broken]).toEqual([]);
  const results = join(root, 'results');
  const [dir] = await convertIntoCache(loaded.converted, join(results, '.converted'));
  return { task: await loadTaskOrThrow(dir!), skillDir, results };
}

/** The last JSON object line a grader printed (the graders contract). */
export function graderOutput(stdout: string): { score: number; checks?: Array<{ name: string; passed: boolean }> } {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .at(-1);
  return JSON.parse(line ?? 'null');
}

/** Runs the converted deterministic grader the way the graders contract says: bash <tests>/graders/x.sh, cwd = workdir. */
export async function runGrader(workspace: Workspace, task: Task): Promise<ReturnType<typeof graderOutput>> {
  await workspace.upload(join(task.dir, 'tests'), workspace.paths.tests);
  const graded = await workspace.exec(`bash ${workspace.paths.tests}/graders/deterministic.sh`);
  expect(graded.stderr).toBe('');
  expect(graded.exitCode).toBe(0);
  return graderOutput(graded.stdout);
}

/** The oracle's step by hand: solution/ in, `bash solve.sh` in the workdir. */
export async function runSolution(workspace: Workspace, task: Task): Promise<string> {
  await workspace.upload(join(task.dir, 'solution'), workspace.paths.solution);
  const solved = await workspace.exec(`bash ${workspace.paths.solution}/solve.sh`);
  expect(solved.exitCode, solved.stderr).toBe(0);
  return solved.stdout;
}

/** A workspace of the task; `onPrepared` sees what the provider prepared (Docker: the image to remove later). */
export async function freshWorkspace(
  provider: EnvironmentProvider,
  task: Task,
  jobId: string,
  onPrepared?: (handle: unknown) => void,
): Promise<Workspace> {
  const prepared = await provider.prepare(task, { jobId, forceBuild: false, log: () => undefined });
  onPrepared?.(prepared.handle);
  const trialId = randomBytes(6).toString('hex');
  return provider.createWorkspace(prepared, { jobId, trialId, trialName: `evalyaml-${trialId}` });
}
