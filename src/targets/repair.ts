import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Agent } from '../agents/types.js';
import type { ExecOptions, ExecResult, Workspace } from '../environments/types.js';
import { errorMessage } from '../errors.js';
import { defaultTaskConfig } from '../task/schema.js';
import type { Task } from '../task/types.js';
import { killGroup, runInProcessGroup } from '../util/process-group.js';
import { SessionLog } from '../util/session-log.js';
import { locateContract } from './contract.js';
import { formatHints, mineHints } from './hints.js';
import {
  type Provenance,
  type ProvenanceChange,
  readProvenance,
  type ScopeViolation,
  writeProvenance,
} from './provenance.js';
import { defaultCacheDir, type ResolvedTarget, resolveTarget } from './resolve/index.js';
import { baseStageEnv, type FailureClass, NON_REPAIRABLE } from './stages.js';
import { type VerifySuiteOptions, type VerifySuiteResult, verifyTarget } from './verify-target.js';

/**
 * Scaffold and repair with an agent: the agent gets the hints, the failed stage, the classified error and
 * the output tails, and may write only inside the contract's directory. That is enforced by comparing
 * file trees before and after — not by trusting the agent: anything it changed elsewhere is restored and
 * recorded. Every change is recorded in provenance.json, and the contract is unreviewed until
 * `skill-eval target accept`.
 */

interface FileEntry {
  sha256: string;
  mode: number;
}

/** Path → content hash of every regular file under root (symlinks by target text); `.git` internals skipped. */
export async function snapshotTree(root: string): Promise<Map<string, FileEntry>> {
  const entries = new Map<string, FileEntry>();
  const walk = async (dir: string): Promise<void> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const path = join(dir, name);
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      if (info.isDirectory()) {
        if (name === '.git' && dir === root) continue;
        await walk(path);
      } else if (info.isFile()) {
        entries.set(relative(root, path), {
          sha256: createHash('sha256')
            .update(await readFile(path))
            .digest('hex'),
          mode: info.mode & 0o777,
        });
      }
    }
  };
  await walk(root);
  return entries;
}

export interface TreeChange {
  path: string;
  action: 'created' | 'modified' | 'deleted';
  before?: FileEntry | undefined;
  after?: FileEntry | undefined;
}

export function diffTrees(before: Map<string, FileEntry>, after: Map<string, FileEntry>): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const [path, entry] of before) {
    const now = after.get(path);
    if (!now) changes.push({ path, action: 'deleted', before: entry });
    else if (now.sha256 !== entry.sha256 || now.mode !== entry.mode)
      changes.push({ path, action: 'modified', before: entry, after: now });
  }
  for (const [path, entry] of after) if (!before.has(path)) changes.push({ path, action: 'created', after: entry });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A workspace that is a host directory: the agent works on the target in place, under the scope check. */
class HostWorkspace implements Workspace {
  readonly id = `repair-${randomBytes(4).toString('hex')}`;
  readonly limits: Workspace['limits'] = {
    cpus: 'not enforced',
    memory: 'not enforced',
    storage: 'not enforced',
    pids: 'not enforced',
    network: 'not enforced',
    notes: ['contract repair runs on the host; writes outside the contract dir are undone afterwards'],
  };
  private readonly groups = new Set<number>();
  constructor(readonly paths: Workspace['paths']) {}
  private abs(path: string): string {
    return isAbsolute(path) ? path : resolve(this.paths.workdir, path);
  }
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return runInProcessGroup(command, {
      cwd: this.abs(options.cwd ?? this.paths.workdir),
      env: { ...baseStageEnv(), HOME: this.paths.home, TMPDIR: this.paths.tmp, ...options.env },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      stdin: options.stdin,
      onStdout: options.onStdout,
      onStderr: options.onStderr,
      killGraceMs: 2000,
      onGroup: (pgid) => this.groups.add(pgid),
    });
  }
  async upload(hostPath: string, envPath: string): Promise<void> {
    await cp(hostPath, this.abs(envPath), { recursive: true });
  }
  async writeFile(envPath: string, content: string | Uint8Array, mode?: number): Promise<void> {
    await mkdir(dirname(this.abs(envPath)), { recursive: true });
    await writeFile(this.abs(envPath), content);
    if (mode !== undefined) await chmod(this.abs(envPath), mode);
  }
  async download(envPath: string, hostPath: string): Promise<boolean> {
    if (!(await stat(this.abs(envPath)).catch(() => undefined))) return false;
    await cp(this.abs(envPath), hostPath, { recursive: true });
    return true;
  }
  async readFile(envPath: string): Promise<Buffer | undefined> {
    return readFile(this.abs(envPath)).catch(() => undefined);
  }
  async remove(envPath: string): Promise<void> {
    await rm(this.abs(envPath), { recursive: true, force: true });
  }
  async stopAll(): Promise<void> {
    await Promise.all([...this.groups].map((pgid) => killGroup(pgid, 2000)));
  }
  async dispose(): Promise<void> {
    await this.stopAll();
  }
}

async function stageTails(artifactsDir: string | null, stage: string | null): Promise<string> {
  if (!artifactsDir || !stage) return '(no stage log)';
  try {
    const log = JSON.parse(await readFile(join(artifactsDir, 'logs', `${stage}.json`), 'utf8')) as {
      commands?: { command: string; exit_code?: number; stdout_tail: string; stderr_tail: string }[];
    };
    const last = log.commands?.at(-1);
    if (!last) return '(the stage ran no command)';
    return [
      `$ ${last.command}  (exit ${last.exit_code ?? 'none'})`,
      '--- stdout (tail) ---',
      last.stdout_tail.slice(-2000),
      '--- stderr (tail) ---',
      last.stderr_tail.slice(-2000),
    ].join('\n');
  } catch {
    return '(no stage log)';
  }
}

export function repairInstruction(options: {
  target: string;
  targetDir: string;
  contractFile: string;
  contractText: string | undefined;
  failure: VerifySuiteResult;
  tails: string;
  hints: string;
}): string {
  const { failure } = options;
  return [
    options.contractText === undefined
      ? `Write a skill-eval contract for the benchmark at ${options.targetDir}.`
      : `Fix the skill-eval contract of the benchmark at ${options.targetDir}.`,
    '',
    `Contract file: ${options.contractFile}`,
    `You may create or change files ONLY inside ${dirname(options.contractFile)}. Changes anywhere else are undone and recorded.`,
    'The contract format is documented in docs/targets.md of skill-eval (version 1: modes, scoring, stages setup/health/rollout/evaluate/teardown; drivers qa, browser, command).',
    '',
    `Target: ${options.target}`,
    failure.failed_stage ? `Failed stage: ${failure.failed_stage}` : '',
    failure.failure_code
      ? `Failure: ${failure.failure_code} (${failure.failure_class ?? 'unclassified'}): ${failure.error ?? ''}`
      : '',
    '',
    'Output of the last command of the failed stage:',
    options.tails,
    '',
    "Commands the benchmark's own files show (hints):",
    options.hints,
    '',
    options.contractText === undefined ? '(there is no contract yet)' : `Current contract:\n${options.contractText}`,
  ]
    .filter((line, index, all) => !(line === '' && all[index - 1] === ''))
    .join('\n');
}

function syntheticTask(name: string, dir: string, instruction: string): Task {
  return {
    name,
    dir,
    instruction,
    config: defaultTaskConfig(),
    paths: {
      taskToml: join(dir, 'task.toml'),
      instruction: join(dir, 'instruction.md'),
      testsDir: join(dir, 'tests'),
      testScript: join(dir, 'tests', 'test.sh'),
    },
    skills: [],
    checksum: '',
    warnings: [],
  };
}

export interface RepairAttempt {
  iteration: number;
  failure_before: { stage: string | null; code: string | null; class: FailureClass | null };
  changes: ProvenanceChange[];
  violations: ScopeViolation[];
  agent_error?: string | undefined;
  after: { ok: boolean; failed_stage: string | null; failure_code: string | null };
}

/** Restores a file from the backup (or removes a file the agent created). */
async function restore(root: string, backup: string, change: TreeChange): Promise<void> {
  const target = join(root, change.path);
  if (change.action === 'created') await rm(target, { force: true });
  else {
    await mkdir(dirname(target), { recursive: true });
    await cp(join(backup, change.path), target, { force: true });
    if (change.before) await chmod(target, change.before.mode);
  }
}

/** Why a failed target is not worth an agent's attempt; undefined when repair may start. */
function refusal(initial: VerifySuiteResult, options: VerifySuiteOptions): string | undefined {
  if (!options.repairAgent) return 'no repair agent';
  if (initial.failure_class && NON_REPAIRABLE.includes(initial.failure_class))
    return `not repairable: ${initial.failure_class}`;
  if (initial.failed_stage === 'resolve') return 'not repairable: the target could not be resolved';
  if (initial.failure_code === 'contract_missing' && !options.derive)
    return 'no contract (pass --derive to let the agent draft one)';
  return undefined;
}

/** Runs the agent on the instruction in a scratch home; its error, if it failed, is the answer. */
async function runRepairAgent(
  agent: Agent,
  session: { scratch: string; workdir: string; task: Task; model: string | undefined },
): Promise<string | undefined> {
  const { scratch } = session;
  const paths = {
    workdir: session.workdir,
    home: join(scratch, 'home'),
    tmp: join(scratch, 'tmp'),
    logsAgent: join(scratch, 'logs', 'agent'),
    logsVerifier: join(scratch, 'logs', 'verifier'),
    logsArtifacts: join(scratch, 'logs', 'artifacts'),
    tests: join(scratch, 'tests'),
    solution: join(scratch, 'solution'),
  };
  for (const dir of [paths.home, paths.tmp, paths.logsAgent]) await mkdir(dir, { recursive: true });
  const workspace = new HostWorkspace(paths);
  const controller = new AbortController();
  const log = new SessionLog(join(scratch, 'session.jsonl'));
  try {
    await agent.run({
      task: session.task,
      instruction: session.task.instruction,
      workspace,
      paths,
      arm: 'no-skills',
      skillDirs: [],
      env: {},
      model: session.model,
      signal: controller.signal,
      timeoutMs: 15 * 60_000,
      log,
    });
    return undefined;
  } catch (error) {
    return errorMessage(error);
  } finally {
    log.close();
    await workspace.dispose();
  }
}

interface IterationChanges {
  changes: ProvenanceChange[];
  violations: ScopeViolation[];
}

/** The scope check: compare trees, keep changes inside the contract dir, undo (from the backups) the rest. */
async function checkScope(
  roots: string[],
  trees: { before: Map<string, FileEntry>[]; backups: string[] },
  contractDir: string,
  record: { by: string; iteration: number; reason: string },
): Promise<IterationChanges> {
  const found: IterationChanges = { changes: [], violations: [] };
  const at = new Date().toISOString();
  const { by, iteration } = record;
  for (const [i, root] of roots.entries()) {
    for (const change of diffTrees(trees.before[i]!, await snapshotTree(root))) {
      const absolute = join(root, change.path);
      const relToContract = relative(contractDir, absolute);
      if (inside(absolute, contractDir) && relToContract !== 'provenance.json') {
        found.changes.push({
          path: relToContract,
          action: change.action,
          sha256_before: change.before?.sha256,
          sha256_after: change.after?.sha256,
          by,
          at,
          iteration,
          reason: record.reason,
        });
      } else {
        await restore(root, trees.backups[i]!, change);
        found.violations.push({ path: absolute, action: change.action, restored: true, by, at, iteration });
      }
    }
  }
  return found;
}

interface RepairRun {
  target: string;
  resolved: ResolvedTarget;
  hints: string;
  agent: Agent;
  options: VerifySuiteOptions;
}

/** One agent attempt at the contract, scope-checked: what it changed, what it was not allowed to change. */
async function repairIteration(
  run: RepairRun,
  current: VerifySuiteResult,
  iteration: number,
): Promise<IterationChanges & { contractDir: string; agentError: string | undefined }> {
  const { resolved, agent, options } = run;
  const location = await locateContract({
    targetDir: resolved.dir,
    slug: resolved.slug,
    contractsDir: options.contractsDir,
  });
  const contractDir = location.dir;
  await mkdir(contractDir, { recursive: true });
  const roots = inside(contractDir, resolved.dir) ? [resolved.dir] : [resolved.dir, contractDir];
  const scratch = await mkdtemp(join(tmpdir(), 'skill-eval-repair-'));
  // The scratch dir holds the backups the scope check restores from: removed however the iteration ends.
  try {
    const backups = roots.map((_, i) => join(scratch, `backup-${i}`));
    const before = await Promise.all(roots.map((root) => snapshotTree(root)));
    await Promise.all(
      roots.map((root, i) =>
        cp(root, backups[i]!, { recursive: true, filter: (src) => !src.startsWith(join(root, '.git') + sep) }),
      ),
    );
    const instruction = repairInstruction({
      target: run.target,
      targetDir: resolved.dir,
      contractFile: location.file,
      contractText: location.exists ? await readFile(location.file, 'utf8') : undefined,
      failure: current,
      tails: await stageTails(current.artifacts_dir, current.failed_stage),
      hints: run.hints,
    });
    const task = syntheticTask(`contract-repair-${resolved.slug}`, contractDir, instruction);
    const agentError = await runRepairAgent(agent, {
      scratch,
      workdir: resolved.dir,
      task,
      model: options.repairModel,
    });
    const found = await checkScope(roots, { before, backups }, contractDir, {
      by: options.repairModel ? `${agent.name}/${options.repairModel}` : agent.name,
      iteration,
      reason: `${current.failed_stage ?? 'contract'}: ${current.failure_code ?? 'failed'}`,
    });
    return { ...found, contractDir, agentError };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Records the iteration's changes and violations; any of them makes the contract unreviewed again. */
async function recordProvenance(contractDir: string, found: IterationChanges): Promise<void> {
  if (found.changes.length === 0 && found.violations.length === 0) return;
  const provenance: Provenance = (await readProvenance(contractDir)) ?? {
    schema: 'skill-eval/contract-provenance@1',
    reviewed: false,
    changes: [],
    violations: [],
  };
  provenance.reviewed = false;
  provenance.accepted_digest = undefined;
  provenance.changes.push(...found.changes);
  provenance.violations.push(...found.violations);
  await writeProvenance(contractDir, provenance);
}

function outcomeOf(result: VerifySuiteResult): RepairAttempt['after'] {
  return { ok: result.ok, failed_stage: result.failed_stage, failure_code: result.failure_code };
}

/**
 * Up to `repairIters` rounds of: agent edits the contract (scope-checked) → verify the target again.
 * Stops early on non-repairable failures (auth, missing GPU) and when the agent changes nothing.
 */
export async function repairTarget(
  target: string,
  initial: VerifySuiteResult,
  options: VerifySuiteOptions,
): Promise<VerifySuiteResult> {
  const attempts: RepairAttempt[] = [];
  const finish = (result: VerifySuiteResult, fixed: boolean, stopped?: string): VerifySuiteResult => ({
    ...result,
    repair: { iterations: attempts.length, fixed, stopped_because: stopped, attempts },
  });
  const refused = refusal(initial, options);
  if (refused || !options.repairAgent) return finish(initial, false, refused);

  let current = initial;
  const resolved = await resolveTarget(target, {
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    offline: options.offline,
    hfEndpoint: options.hfEndpoint,
  });
  const hints = formatHints(await mineHints(resolved.dir));
  const run: RepairRun = { target, resolved, hints, agent: options.repairAgent, options };
  for (let iteration = 1; iteration <= (options.repairIters ?? 0); iteration++) {
    const { contractDir, agentError, ...found } = await repairIteration(run, current, iteration);
    await recordProvenance(contractDir, found);
    const attempt: RepairAttempt = {
      iteration,
      failure_before: { stage: current.failed_stage, code: current.failure_code, class: current.failure_class },
      ...found,
      agent_error: agentError,
      after: { ok: false, failed_stage: null, failure_code: null },
    };
    attempts.push(attempt);
    if (found.changes.length === 0) {
      attempt.after = outcomeOf(current);
      const why = agentError ? `the agent failed: ${agentError}` : 'the agent changed nothing in the contract dir';
      return finish(current, false, why);
    }
    current = await verifyTarget(target, options);
    attempt.after = outcomeOf(current);
    if (current.ok) return finish(current, true);
    if (current.failure_class && NON_REPAIRABLE.includes(current.failure_class))
      return finish(current, false, `not repairable: ${current.failure_class}`);
  }
  return finish(current, false, `still failing after ${options.repairIters} iterations`);
}
