import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { runInProcessGroup } from '../util/process-group.js';
import type { Redactor } from '../util/secrets.js';
import type { CommandStage, ContractCommand } from './contract.js';

/** Variables the runner gives every stage command (docs/targets.md#runner-variables). */
export const RUNNER_VARIABLES = {
  SKILL_EVAL_TARGET_DIR: 'the target root (the stage runs here unless workdir says otherwise)',
  SKILL_EVAL_CONTRACT_DIR: 'the directory holding contract.yaml (scripts beside the contract)',
  SKILL_EVAL_ARTIFACTS_DIR: 'this run’s artifacts directory, <artifacts>/<run_id>/env_api',
  SKILL_EVAL_RUN_ID: 'the run id',
  SKILL_EVAL_STAGE: 'setup | health | rollout | evaluate | teardown | bootstrap',
  SKILL_EVAL_MODE: 'smoke | full',
  SKILL_EVAL_LIMIT: 'samples the mode asks for; empty = all',
  SKILL_EVAL_SEEDS: 'comma-separated seeds of the mode',
  SKILL_EVAL_SAMPLES_PATH: 'where the rollout writes its samples JSONL (the evaluate stage reads it)',
  SKILL_EVAL_MODEL_BASE_URL:
    'OpenAI-compatible endpoint of the model under test (a local gateway; rollout and evaluate)',
  SKILL_EVAL_MODEL: 'model name to send',
  SKILL_EVAL_MODEL_API_KEY: 'the key for that endpoint (a per-run token; the real key never reaches the stage)',
  SKILL_EVAL_BOOTSTRAP_DIR:
    'a cached directory for what bootstrap installed (a venv, node_modules), keyed by the bootstrap key',
  SKILL_EVAL_CACHE_DIR: 'the target cache root',
} as const;

/** The host variables a stage inherits; everything else (API keys, tokens) stays out. */
const INHERITED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'SHELL',
  'TERM',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
];

export function baseStageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return env;
}

/** `${NAME}` and `$NAME` of the given variables; others are left for the shell. */
export function expandVariables(text: string, variables: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    return Object.hasOwn(variables, name) ? variables[name]! : whole;
  });
}

const TAIL_CHARS = 4000;
function tail(text: string): string {
  return text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text;
}

export interface CommandLog {
  index: number;
  name?: string | undefined;
  command: string;
  workdir: string;
  attempt: number;
  exit_code: number | undefined;
  timed_out: boolean;
  duration_ms: number;
  stdout_tail: string;
  stderr_tail: string;
  stdout_log: string;
  stderr_log: string;
}

export type FailureClass =
  | 'auth'
  | 'gpu'
  | 'timeout'
  | 'command_not_found'
  | 'missing_file'
  | 'missing_module'
  | 'network'
  | 'exit_code'
  | 'integrity'
  | 'score'
  | 'internal';

/** Classes no contract edit can fix: stop repairing at once. */
export const NON_REPAIRABLE: readonly FailureClass[] = ['auth', 'gpu'];

export interface StageFailure {
  stage: string;
  code: string;
  message: string;
  class: FailureClass;
}

export interface StageLog {
  stage: string;
  driver: string;
  ok: boolean;
  started_at: string;
  duration_ms: number;
  commands: CommandLog[];
  failure?: StageFailure | undefined;
  notes: string[];
}

/** A deterministic reading of a failed command's output: what kind of failure, for repair and reports. */
export function classifyFailure(text: string, timedOut: boolean): FailureClass {
  if (timedOut) return 'timeout';
  if (
    /\b(401|403)\b.*(unauthori[sz]ed|forbidden)|invalid api key|authentication (failed|error)|permission denied \(publickey\)|HF_TOKEN|gated (repo|dataset)/i.test(
      text,
    )
  )
    return 'auth';
  if (/CUDA|no GPU|nvidia-smi|cudaGetDeviceCount|torch\.cuda|NVIDIA driver/i.test(text)) return 'gpu';
  if (/command not found|not found: \S+|No such file or directory.*(bin|exec)|ENOENT.*spawn/i.test(text))
    return 'command_not_found';
  // Node says "Cannot find module" for a script path too: that is a missing file, not a package.
  if (/Cannot find module '[./]/.test(text)) return 'missing_file';
  if (/ModuleNotFoundError|No module named|Cannot find module|Cannot find package|ERR_MODULE_NOT_FOUND/i.test(text))
    return 'missing_module';
  if (/No such file or directory|ENOENT|can't open file|FileNotFoundError/i.test(text)) return 'missing_file';
  if (
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|Could not resolve host|Network is unreachable|Temporary failure in name resolution/i.test(
      text,
    )
  )
    return 'network';
  return 'exit_code';
}

export interface CommandStageContext {
  stage: string;
  targetDir: string;
  /** Runner variables plus the contract's env. */
  env: Record<string, string>;
  logsDir: string;
  redactor: Redactor;
  defaultTimeoutSec: number;
  /** Epoch ms past which no command may run (security.total_timeout_sec). */
  deadline: number;
  signal?: AbortSignal | undefined;
  log?: ((line: string) => void) | undefined;
}

function resolveWorkdir(targetDir: string, workdir: string | undefined, env: Record<string, string>): string {
  if (!workdir) return targetDir;
  const expanded = expandVariables(workdir, env);
  return isAbsolute(expanded) ? expanded : resolve(targetDir, expanded);
}

/**
 * Runs a command stage: each command in its own process group, under its timeout, retried as the
 * contract says; stops at the first command that still fails. Logs go to `<logsDir>/<stage>.json` with
 * the full output of every attempt beside it. Never throws for a failing command.
 */
export async function runCommandStage(
  stage: Pick<CommandStage, 'commands' | 'timeout_sec' | 'retries' | 'env' | 'workdir'>,
  context: CommandStageContext,
): Promise<StageLog> {
  const started = Date.now();
  const log: StageLog = {
    stage: context.stage,
    driver: 'command',
    ok: true,
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    commands: [],
    notes: [],
  };
  await mkdir(context.logsDir, { recursive: true });
  for (const [index, raw] of stage.commands.entries()) {
    const command: ContractCommand = raw;
    const env = { ...context.env, ...stage.env, ...command.env };
    const workdir = resolveWorkdir(context.targetDir, command.workdir ?? stage.workdir, env);
    const retries = command.retries ?? stage.retries ?? 0;
    const timeoutSec = command.timeout_sec ?? stage.timeout_sec ?? context.defaultTimeoutSec;
    let succeeded = false;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      const remaining = context.deadline - Date.now();
      if (remaining <= 0) {
        log.failure = {
          stage: context.stage,
          code: 'total_timeout',
          message: `the contract's total time limit (security.total_timeout_sec) ran out before command ${index + 1}`,
          class: 'timeout',
        };
        break;
      }
      context.log?.(`[${context.stage}] $ ${command.run}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
      await mkdir(workdir, { recursive: true }).catch(() => undefined);
      const result = await runInProcessGroup(command.run, {
        cwd: workdir,
        env,
        timeoutMs: Math.min(timeoutSec * 1000, remaining),
        signal: context.signal,
        killGraceMs: 2000,
      });
      const stem = `${context.stage}.${index + 1}.${attempt}`;
      const stdoutLog = join(context.logsDir, `${stem}.stdout.log`);
      const stderrLog = join(context.logsDir, `${stem}.stderr.log`);
      const stdout = context.redactor.redact(result.stdout);
      const stderr = context.redactor.redact(result.stderr);
      await writeFile(stdoutLog, stdout);
      await writeFile(stderrLog, stderr);
      log.commands.push({
        index: index + 1,
        name: command.name,
        command: context.redactor.redact(command.run),
        workdir: relative(context.targetDir, workdir) || '.',
        attempt,
        exit_code: result.exitCode,
        timed_out: result.timedOut,
        duration_ms: result.durationMs,
        stdout_tail: tail(stdout),
        stderr_tail: tail(stderr),
        stdout_log: stdoutLog,
        stderr_log: stderrLog,
      });
      if (result.aborted) {
        log.failure = { stage: context.stage, code: 'aborted', message: 'cancelled', class: 'internal' };
        break;
      }
      if (result.exitCode === 0) {
        succeeded = true;
        break;
      }
      const why = result.timedOut
        ? `timed out after ${timeoutSec} s`
        : `exited with ${result.exitCode ?? `signal ${result.signal ?? '?'}`}`;
      log.failure = {
        stage: context.stage,
        code: result.timedOut ? 'command_timeout' : 'command_failed',
        message: `command ${index + 1} (${command.name ?? command.run.split('\n')[0]!.slice(0, 80)}) ${why}`,
        class: classifyFailure(`${stdout}\n${stderr}`, result.timedOut),
      };
    }
    if (!succeeded) {
      log.ok = false;
      break;
    }
    log.failure = undefined;
  }
  log.duration_ms = Date.now() - started;
  await writeJsonAtomic(join(context.logsDir, `${context.stage}.json`), log);
  return log;
}

/** Writes a driver stage's log in the same shape as a command stage's. */
export async function writeStageLog(logsDir: string, log: StageLog): Promise<void> {
  await writeJsonAtomic(join(logsDir, `${log.stage}.json`), log);
}
