import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { describeValue } from '../util/problems.js';
import { fileOrInline, isFile, pathKind, resolveRun, storedPath } from './references.js';
import type { EvalDefaults, EvalGraderConfig, EvalTaskConfig, WorkspaceMapping } from './schema.js';

/** skillgrade's own defaults, used where eval.yaml says nothing (its DEFAULT_CONFIG). */
const SKILLGRADE_DEFAULTS = {
  timeoutSec: 300,
  dockerBase: 'node:20-slim',
  cpus: 2,
  memoryMb: 2048,
} as const;

export interface ResolvedWorkspaceFile {
  /** A file or folder next to eval.yaml (stored under environment/files/<stored>), or inline content. */
  source: { kind: 'path'; absolute: string; stored: string; directory: boolean } | { kind: 'content'; text: string };
  dest: string;
  chmod?: string | undefined;
}

export interface ResolvedGrader {
  type: 'deterministic' | 'llm_rubric';
  /** Unique within the task: the type, numbered when it repeats. */
  name: string;
  weight: number;
  model?: string | undefined;
  setup?: string | undefined;
  /** deterministic: the bash script; llm_rubric: the rubric. */
  body: string;
  /** Files next to eval.yaml the script uses (stored paths), copied under tests/graders/files/. */
  files: string[];
  /** Files eval.yaml points at for this grader (kept out of the skill copy). */
  referenced: string[];
}

/** One eval with every default applied and every file reference read. */
export interface ResolvedEval {
  index: number;
  name: string;
  instruction: string;
  workspace: ResolvedWorkspaceFile[];
  graders: ResolvedGrader[];
  solution?: { absolute: string; text: string } | undefined;
  timeoutSec: number;
  dockerBase: string;
  dockerSetup?: string | undefined;
  cpus: number;
  memoryMb: number;
  env: Record<string, string>;
  /** Job-level settings given per eval (agent, provider, trials, grader_model): recorded, not applied per task. */
  overrides: Record<string, string | number>;
  /** Absolute paths eval.yaml points at that the agent must not see (graders, rubrics, solution). */
  hidden: string[];
}

export type ResolveEvalResult = { ok: true; eval: ResolvedEval } | { ok: false; problems: Problem[] };

interface Context {
  evalDir: string;
  /** eval.yaml as named in problems. */
  file: string;
}

/** Merges by dest, the eval's entry winning (as skillgrade does). */
function mergeWorkspace(defaults: WorkspaceMapping[] = [], own: WorkspaceMapping[] = []): WorkspaceMapping[] {
  const byDest = new Map<string, WorkspaceMapping>();
  for (const entry of [...defaults, ...own]) byDest.set(entry.dest, entry);
  return [...byDest.values()];
}

async function resolveWorkspace(
  entries: WorkspaceMapping[],
  keyOf: (entry: WorkspaceMapping) => string,
  context: Context,
  problems: Problem[],
): Promise<ResolvedWorkspaceFile[]> {
  const out: ResolvedWorkspaceFile[] = [];
  for (const entry of entries) {
    if (entry.src === undefined) {
      out.push({ source: { kind: 'content', text: entry.content ?? '' }, dest: entry.dest, chmod: entry.chmod });
      continue;
    }
    const absolute = resolve(context.evalDir, entry.src);
    const kind = await pathKind(absolute);
    if (kind === 'missing') {
      problems.push({
        file: context.file,
        key: `${keyOf(entry)}.src`,
        message: `no such file or folder: ${absolute}`,
        expected: 'a file or folder relative to eval.yaml',
        found: describeValue(entry.src),
        severity: 'error',
      });
      continue;
    }
    const stored = storedPath(context.evalDir, absolute);
    out.push({
      source: { kind: 'path', absolute, stored, directory: kind === 'directory' },
      dest: entry.dest,
      chmod: entry.chmod,
    });
  }
  return out;
}

function graderNames(graders: readonly EvalGraderConfig[]): string[] {
  const total = new Map<string, number>();
  for (const g of graders) total.set(g.type, (total.get(g.type) ?? 0) + 1);
  const seen = new Map<string, number>();
  return graders.map((g) => {
    const n = (seen.get(g.type) ?? 0) + 1;
    seen.set(g.type, n);
    return (total.get(g.type) ?? 0) > 1 ? `${g.type}_${n}` : g.type;
  });
}

async function resolveGraders(
  config: EvalTaskConfig,
  prefix: string,
  context: Context,
  problems: Problem[],
): Promise<ResolvedGrader[]> {
  const names = graderNames(config.graders);
  const out: ResolvedGrader[] = [];
  for (const [i, grader] of config.graders.entries()) {
    const base = {
      type: grader.type,
      name: names[i] ?? grader.type,
      weight: grader.weight ?? 1,
      model: grader.model ?? config.grader_model,
      setup: grader.setup?.trim() || undefined,
    };
    if (grader.type === 'deterministic') {
      const run = await resolveRun(grader.run ?? '', context.evalDir);
      const referenced = [...(run.file ? [run.file] : []), ...run.files.map((f) => resolve(context.evalDir, f))];
      out.push({ ...base, body: run.script, files: run.files, referenced });
      continue;
    }
    const key = `${prefix}.graders[${i}].rubric`;
    const rubric = await fileOrInline(grader.rubric ?? '', { ...context, key, what: 'a rubric' });
    if (!rubric.ok) problems.push(rubric.problem);
    else out.push({ ...base, body: rubric.text, files: [], referenced: rubric.file ? [rubric.file] : [] });
  }
  return out;
}

async function resolveSolution(
  value: string | undefined,
  prefix: string,
  context: Context,
  problems: Problem[],
): Promise<ResolvedEval['solution']> {
  if (value === undefined) return undefined;
  const absolute = resolve(context.evalDir, value);
  if (await isFile(absolute)) return { absolute, text: await readFile(absolute, 'utf8') };
  problems.push({
    file: context.file,
    key: `${prefix}.solution`,
    message: `no such file: ${absolute}`,
    expected: 'a reference solution script, relative to eval.yaml',
    found: describeValue(value),
    severity: 'error',
  });
  return undefined;
}

/** Applies the defaults to one eval and reads every file it names; every problem, not the first. */
export async function resolveEval(
  config: EvalTaskConfig,
  index: number,
  defaults: EvalDefaults,
  context: Context,
): Promise<ResolveEvalResult> {
  const prefix = `tasks[${index}]`;
  const problems: Problem[] = [];
  const instruction = await fileOrInline(config.instruction, {
    ...context,
    key: `${prefix}.instruction`,
    what: 'the instruction',
  });
  if (!instruction.ok) problems.push(instruction.problem);
  const ownDests = new Set((config.workspace ?? []).map((w) => w.dest));
  const workspace = await resolveWorkspace(
    mergeWorkspace(defaults.workspace, config.workspace),
    (entry) =>
      ownDests.has(entry.dest)
        ? `${prefix}.workspace[${(config.workspace ?? []).indexOf(entry)}]`
        : `defaults.workspace[${(defaults.workspace ?? []).indexOf(entry)}]`,
    context,
    problems,
  );
  const graders = await resolveGraders(config, prefix, context, problems);
  const solution = await resolveSolution(config.solution, prefix, context, problems);
  if (!instruction.ok || problems.length > 0) return { ok: false, problems };

  const overrides: Record<string, string | number> = {};
  for (const key of ['agent', 'provider', 'trials', 'grader_model'] as const) {
    const value = config[key];
    if (value !== undefined) overrides[key] = value;
  }
  const docker = { ...defaults.docker, ...config.docker };
  const environment = { ...defaults.environment, ...config.environment };
  const hidden = [...graders.flatMap((g) => g.referenced), ...(solution ? [solution.absolute] : [])];
  return {
    ok: true,
    eval: {
      index,
      name: config.name,
      instruction: instruction.text,
      workspace,
      graders,
      solution,
      timeoutSec: config.timeout ?? defaults.timeout ?? SKILLGRADE_DEFAULTS.timeoutSec,
      dockerBase: docker.base ?? SKILLGRADE_DEFAULTS.dockerBase,
      dockerSetup: docker.setup?.trim() || undefined,
      cpus: environment.cpus ?? SKILLGRADE_DEFAULTS.cpus,
      memoryMb: environment.memory_mb ?? SKILLGRADE_DEFAULTS.memoryMb,
      env: { ...defaults.env, ...config.env },
      overrides,
      hidden,
    },
  };
}
