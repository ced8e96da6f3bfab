import { join, posix } from 'node:path';
import type { ExecResult, Workspace } from '../../environments/types.js';
import { AgentError } from '../../errors.js';
import { shellQuote } from '../../util/shell.js';
import type { AgentRunContext, AgentRunResult, Usage } from '../types.js';
import { type AgentPackage, ensureInstalled, packageKey, tail } from './install.js';
import { RunRecorder, SkillMatcher } from './recorder.js';
import { LineSplitter } from './stream.js';

/** Where a Docker image layer puts an agent CLI (src/agents/cli/image-layer.ts); the same layout as the host cache. */
export const IMAGE_AGENTS_DIR = '/opt/skill-eval/agents';

/** The launcher script an image layer writes next to the installed package. */
export function imageLauncher(pkg: AgentPackage): string {
  return posix.join(IMAGE_AGENTS_DIR, packageKey(pkg), 'launch');
}

/** How to start a CLI in a workspace. */
export interface LocatedCli {
  argv: string[];
  /** Helper directories for the front of PATH (AgentPackage.pathDirs), as paths in the workspace. */
  pathDirs: string[];
}

/**
 * The argv that starts the CLI inside this workspace: the launcher baked into the image when there is one
 * (Docker), else the host cache, installed on first use (local provider).
 */
export async function locateCli(pkg: AgentPackage, workspace: Workspace, signal: AbortSignal): Promise<LocatedCli> {
  const launcher = imageLauncher(pkg);
  const probe = await workspace.exec(`test -x ${launcher}`, { signal, timeoutMs: 30_000 });
  if (probe.exitCode === 0)
    return { argv: [launcher], pathDirs: (pkg.pathDirs ?? []).map((d) => posix.join(posix.dirname(launcher), d)) };
  const installed = await ensureInstalled(pkg, { signal });
  return { argv: installed.argv, pathDirs: (pkg.pathDirs ?? []).map((d) => join(installed.root, d)) };
}

/**
 * The command line that runs the CLI with `args`, and the variables it needs. The CLI's own paths travel in
 * variables, not in the command text: the local provider rewrites task paths in command text (a task that
 * copies files to /root would otherwise redirect a CLI cached under /root/.cache).
 */
export function cliCommand(cli: LocatedCli, args: readonly string[]): { command: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const words = cli.argv.map((path, i) => {
    env[`SKILL_EVAL_CLI_${i}`] = path;
    return `"$SKILL_EVAL_CLI_${i}"`;
  });
  let prefix = '';
  if (cli.pathDirs.length > 0) {
    env.SKILL_EVAL_CLI_PATH = cli.pathDirs.join(':');
    prefix = 'export PATH="$SKILL_EVAL_CLI_PATH:$PATH"; ';
  }
  return { command: `${prefix}exec ${[...words, ...args.map(shellQuote)].join(' ')}`, env };
}

/** What a harness hands the shared runner. */
export interface CliInvocation {
  /** Full bash command line (quoted with shellJoin). */
  command: string;
  /** Written to the CLI's stdin, which is then closed (the prompt, for CLIs that read it there). */
  stdin?: string | undefined;
  /** The CLI's environment, on top of the workspace's base (HOME, TMPDIR, PATH are per trial already). */
  env: Record<string, string>;
  /** Handles one stdout line (the CLI's JSONL stream). */
  onLine: (line: string) => void;
  /** Handles one stderr line (CLIs that report retries only in their logs). */
  onStderrLine?: ((line: string) => void) | undefined;
  /** Aborted when the harness gives up on the CLI (RunRecorder.giveUp). */
  giveUp?: AbortSignal | undefined;
}

export interface CliOutcome {
  exec: ExecResult;
  stderrTail: string;
  /** The run was stopped from outside (agent timeout or cancel): partial results are all there is. A harness's own give-up is a failure, not this. */
  stopped: boolean;
}

/**
 * Runs a CLI under the trial's timeout and cancel signal, feeds its stdout to the stream parser line by line,
 * and keeps its raw output in logs/agent (collected with the trial, redacted like everything else).
 */
export async function runCli(agent: string, context: AgentRunContext, invocation: CliInvocation): Promise<CliOutcome> {
  const splitter = new LineSplitter(invocation.onLine);
  const stderrSplitter = new LineSplitter(invocation.onStderrLine ?? (() => undefined));
  const exec = await context.workspace.exec(invocation.command, {
    env: invocation.env,
    stdin: invocation.stdin,
    signal: invocation.giveUp ? AbortSignal.any([context.signal, invocation.giveUp]) : context.signal,
    timeoutMs: context.timeoutMs,
    user: context.task.config.agent.user,
    callsModelApi: true,
    onStdout: (chunk) => splitter.push(chunk),
    onStderr: invocation.onStderrLine ? (chunk) => stderrSplitter.push(chunk) : undefined,
  });
  splitter.flush();
  stderrSplitter.flush();
  const logsDir = context.paths.logsAgent;
  await context.workspace.writeFile(posix.join(logsDir, `${agent}.stdout.jsonl`), exec.stdout).catch(() => undefined);
  await context.workspace.writeFile(posix.join(logsDir, `${agent}.stderr.txt`), exec.stderr).catch(() => undefined);
  return { exec, stderrTail: tail(exec.stderr, 2000), stopped: exec.timedOut || context.signal.aborted };
}

export function newRecorder(context: AgentRunContext, relativeSkillDirs: readonly string[]): RunRecorder {
  const known = new Set(context.skillDirs.length > 0 ? context.task.skills.map((s) => s.name) : []);
  return new RunRecorder(context.log, new SkillMatcher(context.skillDirs, relativeSkillDirs, known));
}

/**
 * Turns a finished CLI run into the agent's result, or an AgentError when the CLI failed: a non-zero exit or an
 * error the CLI reported in its stream. A failure with no model response at all is flagged as before the first
 * model call (bad flag, crash, auth, unreachable endpoint), with the CLI's stderr in the message.
 */
export function finishRun(
  agent: string,
  outcome: CliOutcome,
  recorder: RunRecorder,
  usage: Usage | undefined,
): AgentRunResult {
  const result: AgentRunResult = {
    events: recorder.events,
    finalMessage: recorder.finalMessage,
    usage,
    skillsActivated: recorder.skillsActivated,
    modelCalls: recorder.modelCalls,
  };
  if (outcome.stopped) return result;
  const { exec } = outcome;
  const failure =
    recorder.failure ??
    (exec.exitCode === 0 ? undefined : `exited with ${exec.exitCode ?? exec.signal ?? 'no exit code'}`);
  if (failure === undefined) return result;
  const beforeFirstModelCall = recorder.modelCalls === 0;
  const stderr = outcome.stderrTail === '' ? '(empty)' : outcome.stderrTail;
  recorder.error(failure);
  throw new AgentError(
    `${agent} failed${beforeFirstModelCall ? ' before its first model call' : ''}: ${failure}${exec.exitCode !== undefined && recorder.failure !== undefined ? ` (exit ${exec.exitCode})` : ''}\n--- ${agent} stderr (tail) ---\n${stderr}`,
    {
      beforeFirstModelCall,
      hint: beforeFirstModelCall
        ? `check the API key, the model name and the endpoint; the CLI's raw output is in the trial's agent/ folder`
        : undefined,
    },
  );
}
