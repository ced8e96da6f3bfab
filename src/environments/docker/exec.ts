import type { Duplex, Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { errorMessage, InfraError } from '../../errors.js';
import { StopTrigger, TailBuffer } from '../../util/process-group.js';
import type { ExecOptions, ExecResult } from '../types.js';
import { LOOPBACK_HOSTS_SCRIPT } from './limits.js';

/** After SIGKILL, how long the exec's output may stay open (a process that escaped its group) before we stop reading. */
const DRAIN_AFTER_KILL_MS = 2_000;

/** First line the wrapper writes on stderr (removed from the output): `\x1eSKILL_EVAL_EXEC <pgid> <sid>`. */
const MARKER = '\x1eSKILL_EVAL_EXEC ';
/** What the wrapper says instead when it could not place the uploads (the command did not run). */
const PREFIX = '\x1eSKILL_EVAL_';
const NO_TAR = '\x1eSKILL_EVAL_NO_TAR';
const UPLOAD_FAILED = '\x1eSKILL_EVAL_UPLOAD_FAILED ';

/** The image has no tar: the uploads riding on an exec were not placed and the command did not run. */
export class NoTarError extends Error {}

/**
 * Runs `bash -c "$1"` as the leader of its own process group (job control on), after reporting that group and
 * the exec's session on stderr, so a timeout can kill the whole group from another exec.
 *
 * The command's output goes through two `cat` forwarders rather than straight to the exec's streams: when the
 * command exits but left background processes holding its stdout (`server &`), the wrapper waits briefly for
 * the forwarders, then kills them, so the exec ends at once. (Writing straight to the exec's streams, the
 * engine would wait ~2 s for them and block every other exec of the container meanwhile.) The wrapper's own
 * stderr goes to /dev/null so bash's job notices ("[1]+ Done") never reach the output. With job control on,
 * bash does not point a background job's stdin at /dev/null: stdin passes through. First, in a container
 * without a network sandbox, the loopback names go into /etc/hosts if PID 1 has not written them yet.
 */
export const EXEC_WRAPPER = [
  LOOPBACK_HOSTS_SCRIPT,
  // With `--upload`, stdin is a tar of files to place first (as root); without tar, nothing runs.
  'if [ "$2" = --upload ]; then',
  `  command -v tar >/dev/null || { printf '\\036SKILL_EVAL_NO_TAR\\n' >&2; exit 0; }`,
  `  e=$(tar -x -f - -C / 2>&1 >/dev/null) || { printf '\\036SKILL_EVAL_UPLOAD_FAILED %s\\n' "\${e//$'\\n'/ }" >&2; exit 0; }`,
  'fi',
  'exec 3>&2 2>/dev/null',
  'set -m',
  'o= e=',
  'if command -v cat >/dev/null; then exec 4> >(exec cat); o=$!; exec 5> >(exec cat >&3); e=$!; else exec 4>&1 5>&3; fi',
  `{ exec 1>&4 2>&5 3>&- 4>&- 5>&-; printf '\\036SKILL_EVAL_EXEC %s %s\\n' "$BASHPID" "$$" >&2; exec bash -c "$1"; } &`,
  'j=$!',
  'exec 4>&- 5>&-',
  'wait "$j"; rc=$?',
  // Forwarders end at EOF; held open by a background process, they are killed after 0.2 s. (The timer must
  // not hold fd 3, the exec's stderr, or the exec would last as long as it.)
  'if [ -n "$o" ]; then',
  '  ( sleep 0.2; kill -KILL "$o" "$e" ) >/dev/null 2>&1 3>&- & k=$!',
  '  wait "$o" "$e"',
  '  kill -KILL "$k" 2>/dev/null',
  'fi',
  'exit "$rc"',
].join('\n');

/**
 * Sends a signal to a process group and to every other group of the exec's session (what the command started
 * with job control of its own), sparing the wrapper's group (the wrapper and its output forwarders). Pure
 * bash: the image may have no procps.
 */
export const KILL_SCRIPT = [
  'sig=$1 pg=$2 sess=$3',
  'kill -s "$sig" -- "-$pg" 2>/dev/null',
  '[ -n "$sess" ] || exit 0',
  'for d in /proc/[0-9]*; do',
  '  p=${d#/proc/}; [ "$p" = "$$" ] && continue',
  '  { read -r st < "$d/stat"; } 2>/dev/null || continue',
  '  set -- ${st##*) }',
  '  [ "$4" = "$sess" ] && [ "$3" != "$sess" ] && kill -s "$sig" "$p" 2>/dev/null',
  'done',
  'exit 0',
].join('\n');

/**
 * `stop_all GRACE`: stops every process that does not belong to the container's init session or to the
 * caller's: everything any exec started (each exec is its own session), including what left its group or
 * session, but not PID 1 and what the image's entrypoint started. SIGTERM, then SIGKILL after GRACE seconds.
 * Pure bash: the image may have no procps. Positional parameters are the function's own.
 */
export const STOP_ALL_FUNCTION = [
  'stop_all() {',
  '  local grace=$1 self=$$ init st n p d sig end',
  '  read -r st < /proc/1/stat; set -- ${st##*) }; init=$4',
  '  sweep() {',
  '    n=0',
  '    for d in /proc/[0-9]*; do',
  '      p=${d#/proc/}',
  '      [ "$p" = 1 ] && continue; [ "$p" = "$self" ] && continue',
  '      { read -r st < "$d/stat"; } 2>/dev/null || continue',
  '      set -- ${st##*) }',
  '      [ "$1" = Z ] && continue; [ "$4" = "$init" ] && continue; [ "$4" = "$self" ] && continue',
  '      kill -s "$sig" "$p" 2>/dev/null && n=$((n+1))',
  '    done',
  '  }',
  '  sig=TERM; sweep; [ "$n" = 0 ] && return 0',
  '  end=$((SECONDS + grace))',
  '  while [ "$SECONDS" -le "$end" ]; do sig=0; sweep; [ "$n" = 0 ] && return 0; sleep 0.05 2>/dev/null || sleep 1; done',
  '  sig=KILL; sweep; return 0',
  '}',
].join('\n');

/** Runs stop_all with `$1` seconds of grace (see STOP_ALL_FUNCTION). */
export const STOP_ALL_SCRIPT = `${STOP_ALL_FUNCTION}\nstop_all "$1"`;

export interface ContainerExecOptions extends ExecOptions {
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /**
   * A tar (names relative to `/`) extracted before the command, on the exec's stdin: uploads ride on the next
   * command instead of costing an archive call each. Only with a root user and no `stdin`.
   */
  upload?: (() => Readable) | undefined;
}

/** A Writable that decodes UTF-8 (multi-byte characters split across frames included) and hands text on. */
function textSink(onText: (text: string) => void): Writable & { flushText: () => void } {
  const decoder = new StringDecoder('utf8');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = decoder.write(chunk);
      if (text) onText(text);
      callback();
    },
  }) as Writable & { flushText: () => void };
  sink.flushText = () => {
    const rest = decoder.end();
    if (rest) onText(rest);
  };
  return sink;
}

function envList(env: Record<string, string> | undefined): string[] | undefined {
  if (!env) return undefined;
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

/** Runs a short helper script in the container as root and waits for it (kills, sweeps). */
export async function runHelper(container: Docker.Container, script: string, args: string[]): Promise<void> {
  const exec = await container.exec({
    Cmd: ['bash', '-c', script, 'skill-eval-helper', ...args],
    AttachStdout: true,
    AttachStderr: true,
    User: '0',
  });
  const stream = (await exec.start({ Detach: false, Tty: false })) as Readable;
  stream.resume();
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

/**
 * An exit code ≥ 128 means killed by a signal: if the container itself died (removed, OOM-killed init), the
 * command did not end on its own and its exit code is unknown. The engine may not have noticed the container's
 * death yet when the exec's stream ends: look a few times.
 */
export async function unlessContainerDied(
  container: Docker.Container,
  exitCode: number | undefined,
): Promise<number | undefined> {
  if (exitCode === undefined || exitCode < 128) return exitCode;
  for (let look = 0; look < 4; look++) {
    if (look > 0) await delay(50);
    const alive = await container.inspect().then(
      (info) => info.State.Running && info.State.Status === 'running',
      () => false,
    );
    if (!alive) return undefined;
  }
  return exitCode;
}

/** What failed to even start: the engine said no, or bash is not in the image. */
function couldNotRun(command: string, error: unknown): InfraError {
  return new InfraError(`docker exec failed for \`${command.slice(0, 80)}\`: ${errorMessage(error)}`, { cause: error });
}

/**
 * Runs `bash -c command` in a running container: stdout and stderr kept apart, real exit code from exec
 * inspect, stdin closed unless given. On timeout or abort, the command's process group (and its session)
 * gets SIGTERM, then SIGKILL after the grace period; the result then has `exitCode: undefined`.
 */
export async function execInContainer(
  container: Docker.Container,
  command: string,
  options: ContainerExecOptions,
): Promise<ExecResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (options.signal?.aborted)
    return { exitCode: undefined, timedOut: false, aborted: true, stdout: '', stderr: '', durationMs: 0 };
  const hasStdin = options.stdin !== undefined || options.upload !== undefined;

  let exec: Docker.Exec;
  let stream: Duplex | Readable;
  try {
    exec = await container.exec({
      Cmd: ['bash', '-c', EXEC_WRAPPER, 'skill-eval-exec', command, ...(options.upload ? ['--upload'] : [])],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: hasStdin,
      Tty: false,
      ...(options.user !== undefined ? { User: options.user } : {}),
      ...(options.cwd !== undefined ? { WorkingDir: options.cwd } : {}),
      ...(options.env ? { Env: envList(options.env) } : {}),
    });
    stream = (await exec.start({ hijack: hasStdin, stdin: hasStdin, Detach: false, Tty: false })) as Duplex | Readable;
  } catch (error) {
    throw couldNotRun(command, error);
  }

  const stdout = new TailBuffer();
  const stderr = new TailBuffer();
  let group: { pgid: string; sid: string } | undefined;
  let control: string | undefined;
  // stderr starts with the wrapper's marker line; hold stderr back until it is seen (or clearly absent).
  let head: string | undefined = '';
  const deliverStderr = (text: string): void => {
    if (!text) return;
    stderr.push(text);
    options.onStderr?.(text);
  };
  const outSink = textSink((text) => {
    stdout.push(text);
    options.onStdout?.(text);
  });
  const errSink = textSink((text) => {
    if (head === undefined) return deliverStderr(text);
    head += text;
    const newline = head.indexOf('\n');
    if (head.startsWith(MARKER) && newline >= 0) {
      const [pgid, sid] = head.slice(MARKER.length, newline).trim().split(/\s+/);
      if (pgid && /^\d+$/.test(pgid)) group = { pgid, sid: sid && /^\d+$/.test(sid) ? sid : '' };
      const rest = head.slice(newline + 1);
      head = undefined;
      deliverStderr(rest);
    } else if (newline >= 0 && (head.startsWith(NO_TAR) || head.startsWith(UPLOAD_FAILED))) {
      control = head.slice(0, newline);
      head = undefined;
    } else if (!PREFIX.startsWith(head.slice(0, PREFIX.length)) || (newline >= 0 && !head.startsWith(MARKER))) {
      const rest = head;
      head = undefined;
      deliverStderr(rest);
    }
  });
  container.modem.demuxStream(stream, outSink, errSink);

  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  let finished = false;
  void ended.then(() => {
    finished = true;
  });

  if (options.upload) {
    const duplex = stream as Duplex;
    duplex.on('error', () => undefined);
    const archive = options.upload();
    archive.on('error', () => duplex.end()); // tar then fails on the truncated archive: an upload error
    archive.pipe(duplex); // ends it: the engine closes the command's stdin
  } else if (hasStdin) {
    const duplex = stream as Duplex;
    duplex.on('error', () => undefined);
    duplex.write(options.stdin);
    duplex.end(); // half-close: the engine closes the command's stdin
  }

  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    stopping ??= (async () => {
      const signalGroup = async (sig: 'TERM' | 'KILL'): Promise<void> => {
        if (!group) return;
        try {
          await runHelper(container, KILL_SCRIPT, [sig, group.pgid, group.sid]);
        } catch {
          // the container may be gone already; the stream then ends by itself
        }
      };
      await signalGroup('TERM');
      await Promise.race([ended, delay(options.killGraceMs)]);
      if (finished) return;
      await signalGroup('KILL');
      await Promise.race([ended, delay(DRAIN_AFTER_KILL_MS)]);
      // Something outside the group still holds the output open: stop reading (stopAll/dispose end it).
      if (!finished) stream.destroy();
    })();
  };
  const trigger = new StopTrigger(options, stop);
  try {
    await ended;
    if (stopping) await stopping;
  } finally {
    trigger.clear();
  }
  const { timedOut, aborted } = trigger;
  outSink.flushText();
  errSink.flushText();
  if (head !== undefined && head !== '') {
    const rest = head;
    head = undefined;
    deliverStderr(rest.startsWith(MARKER) ? rest.slice(rest.indexOf('\n') + 1) : rest);
  }

  let exitCode: number | undefined;
  if (!timedOut && !aborted) {
    try {
      const info = await exec.inspect();
      exitCode = !info.Running && typeof info.ExitCode === 'number' ? info.ExitCode : undefined;
    } catch {
      exitCode = undefined; // the container vanished: unknown, never success
    }
    exitCode = await unlessContainerDied(container, exitCode);
  }
  if (control?.startsWith(NO_TAR)) throw new NoTarError('the image has no tar');
  if (control?.startsWith(UPLOAD_FAILED))
    throw new InfraError(
      `placing the uploaded files failed: ${control.slice(UPLOAD_FAILED.length).trim().slice(-500)}`,
    );
  // Without the marker the wrapper never ran: bash is missing, or the user/workdir does not exist.
  if (!group && !timedOut && !aborted && (exitCode === undefined || exitCode === 126 || exitCode === 127)) {
    const output = `${stdout.toString()}${stderr.toString()}`.trim();
    throw new InfraError(
      `could not run bash in the container (exit code ${exitCode ?? 'unknown'})${output ? `: ${output.slice(-500)}` : ''}`,
      {
        retryable: false,
        hint: 'the Docker provider runs every command with bash: the image must have bash, and the user and working directory must exist',
      },
    );
  }
  return { exitCode, timedOut, aborted, stdout: stdout.toString(), stderr: stderr.toString(), durationMs: elapsed() };
}
