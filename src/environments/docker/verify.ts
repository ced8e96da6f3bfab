import { type Duplex, type Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { errorMessage, InfraError } from '../../errors.js';
import { StopTrigger } from '../../util/process-group.js';
import type { ExecResult } from '../types.js';
import type { VerificationOutcome, VerificationRequest } from '../verification.js';
import { collectLogs } from './collect.js';
import { KILL_SCRIPT, runHelper, STOP_ALL_FUNCTION, unlessContainerDied } from './exec.js';

/**
 * Where the verifier's stdout and stderr go in the container. A fixed name: known to the host before any output
 * arrives, and whatever the agent left there is removed first (after every agent process is stopped).
 */
export const VERIFY_OUTPUT_DIR = '/tmp/.skill-eval-verify';

/**
 * The whole verification in one exec, as root (one runc exec instead of five engine operations: stop-all exec,
 * reset exec, tests upload, verifier exec, logs download — each costs about as much as a container start here):
 *   1. stop every process the agent left (stop_all);
 *   2. remove what it could have planted (only what exists), recreate the verifier's log directory and a
 *      directory for the verifier's output, extract the tests from stdin;
 *   3. run the verifier in its own process group (so a timeout kills it from another exec, as in exec.ts),
 *      stdout/stderr to files;
 *   4. write the logs and those two files as one tar on stdout.
 * Progress goes to the exec's stderr as `\x1eSKILL_EVAL_<WORD> …` lines; a failing preparation step's own
 * error text comes just before its PREP_FAILED line. Nothing happens before the tar check: without tar the
 * caller verifies step by step instead.
 *
 * Every process started here costs 1–4 ms of CPU in a container (a command substitution forks once more), so
 * the script starts few: no mktemp (the output directory has a fixed name, made by the same mkdir), no rm when
 * nothing is there, no cleanup at the end (the container is removed next).
 *
 * Arguments: grace logs owner tests command nRemove remove… collect…
 */
export const VERIFY_SCRIPT = [
  'exec 3>&2 2>/dev/null',
  `say() { printf '\\036SKILL_EVAL_%s\\n' "$*" >&3; }`,
  'command -v tar >/dev/null || { say NO_TAR; exit 0; }',
  'grace=$1 logs=$2 owner=$3 tests=$4 cmd=$5 n=$6; shift 6',
  'remove=("${@:1:n}"); shift "$n"; collect=("$@")',
  STOP_ALL_FUNCTION,
  'stop_all "$grace"',
  `out=${VERIFY_OUTPUT_DIR}`,
  'present=(); for p in "${remove[@]}" "$out"; do if [ -e "$p" ] || [ -L "$p" ]; then present+=("$p"); fi; done',
  'if [ "${#present[@]}" -gt 0 ]; then rm -rf -- "${present[@]}" 2>&3 || { say PREP_FAILED "removing planted files"; exit 0; }; fi',
  'mkdir -p -- "$logs" "$tests" "$out" 2>&3 || { say PREP_FAILED "creating $logs, $tests and $out"; exit 0; }',
  'if [ -n "$owner" ]; then chown -- "$owner" "$logs" 2>&3 || { say PREP_FAILED "chown $owner $logs"; exit 0; }; fi',
  'tar -x -f - -C / 2>&3 >/dev/null || { say PREP_FAILED "extracting the tests"; exit 0; }',
  'say "PREPARED $out"',
  'set -m',
  // The command is the lifecycle's own (`bash /tests/test.sh`): eval in the group leader, no extra bash.
  `{ printf '\\036SKILL_EVAL_EXEC %s %s\\n' "$BASHPID" "$$" >&3; eval "$cmd" >"$out/stdout" 2>"$out/stderr" </dev/null 3>&-; } &`,
  'wait "$!"; rc=$?',
  'set +m',
  'say "RC $rc"',
  'paths=(); for p in "${collect[@]}"; do [ -e "$p" ] && paths+=("${p#/}"); done',
  'tar -c -f - -C / -- "${paths[@]}" "${out#/}" || say COLLECT_FAILED',
  'exit 0',
].join('\n');

/** How much of the text a failing preparation step printed is kept for its error message. */
const MAX_DETAIL_CHARS = 2_000;

const PREFIX = '\x1eSKILL_EVAL_';

export interface OneExecOptions {
  workdir: string;
  killGraceMs: number;
  /** Pack of the tests directory (names relative to `/`, see packUploads), streamed to the exec's stdin. */
  packTests: () => Readable;
}

/** Returns undefined when the image has no tar (nothing was done; verify step by step). */
export async function verifyInOneExec(
  container: Docker.Container,
  request: VerificationRequest,
  options: OneExecOptions,
): Promise<VerificationOutcome | undefined> {
  const { signal } = request.options;
  if (signal?.aborted)
    return {
      result: { exitCode: undefined, timedOut: false, aborted: true, stdout: '', stderr: '', durationMs: 0 },
      collectMs: 0,
    };
  const graceSec = String(Math.max(1, Math.ceil(options.killGraceMs / 1000)));
  const args = [
    graceSec,
    request.logsDir,
    request.owner ?? '',
    request.testsPath,
    request.command,
    String(request.remove.length),
    ...request.remove,
    ...request.collect.map((c) => c.from),
  ];

  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await container.exec({
      Cmd: ['bash', '-c', VERIFY_SCRIPT, 'skill-eval-verify', ...args],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: true,
      Tty: false,
      User: '0',
      WorkingDir: options.workdir,
      ...(request.options.env
        ? { Env: Object.entries(request.options.env).map(([key, value]) => `${key}=${value}`) }
        : {}),
    });
    stream = (await exec.start({ hijack: true, stdin: true, Detach: false, Tty: false })) as Duplex;
  } catch (error) {
    throw new InfraError(`docker exec of the verifier failed: ${errorMessage(error)}`, { cause: error });
  }
  stream.on('error', () => undefined);

  // stderr: marker lines only (the verifier's own output goes to files).
  const events: Record<string, string> = {};
  let group: { pgid: string; sid: string } | undefined;
  let stderrRest = '';
  /** Non-marker stderr lines: what a preparation step printed before its PREP_FAILED line. */
  let details = '';
  let started = 0;
  let ranAt = 0;
  let finished = false;
  let onRc: () => void = () => undefined;
  const rcSeen = new Promise<void>((resolve) => (onRc = resolve));
  let onPrepared: () => void = () => undefined;
  const preparedSeen = new Promise<void>((resolve) => (onPrepared = resolve));
  const errSink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stderrRest += chunk.toString('utf8');
      for (let newline = stderrRest.indexOf('\n'); newline >= 0; newline = stderrRest.indexOf('\n')) {
        const line = stderrRest.slice(0, newline);
        stderrRest = stderrRest.slice(newline + 1);
        if (!line.startsWith(PREFIX)) {
          details = `${details}${details ? ' ' : ''}${line.trim()}`.slice(-MAX_DETAIL_CHARS);
          continue;
        }
        const [word = '', ...rest] = line.slice(PREFIX.length).split(' ');
        const value = rest.join(' ');
        events[word] = value;
        if (word === 'PREPARED') {
          started = performance.now();
          onPrepared();
        }
        if (word === 'EXEC') {
          const [pgid, sid] = value.split(' ');
          if (pgid && /^\d+$/.test(pgid)) group = { pgid, sid: sid && /^\d+$/.test(sid) ? sid : '' };
        }
        if (word === 'RC') {
          ranAt = performance.now();
          onRc();
        }
      }
      callback();
    },
  });
  // stdout: the tar of the logs, placed at their destinations as it arrives (the verifier's output kept in memory).
  const logs = collectLogs(request.collect, VERIFY_OUTPUT_DIR);
  const collected = logs.done.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  container.modem.demuxStream(stream, logs.sink, errSink);
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });

  // The tests go in on stdin; half-closing tells tar -x where they end.
  const tests = options.packTests();
  tests.on('error', () => stream.end());
  tests.pipe(stream);

  // The verifier's timeout starts with the verifier. A timeout or cancel stops its group only; the script then
  // still sends the logs. A cancel before the verifier started just stops reading (dispose removes the container).
  let trigger: StopTrigger | undefined;
  let stopping: Promise<void> | undefined;
  const signalGroup = async (sig: 'TERM' | 'KILL'): Promise<void> => {
    if (group) await runHelper(container, KILL_SCRIPT, [sig, group.pgid, group.sid]).catch(() => undefined);
  };
  const stop = (): void => {
    stopping ??= (async () => {
      await signalGroup('TERM');
      await Promise.race([rcSeen, ended, delay(options.killGraceMs)]);
      if (events.RC === undefined) await signalGroup('KILL');
    })();
  };
  const abortedEarly = (): void => {
    if (!group) stream.destroy();
  };
  signal?.addEventListener('abort', abortedEarly, { once: true });
  void preparedSeen.then(() => {
    if (!finished) trigger = new StopTrigger(request.options, stop);
  });
  try {
    await ended;
    finished = true;
    if (stopping) await stopping;
  } finally {
    trigger?.clear();
    signal?.removeEventListener('abort', abortedEarly);
  }
  logs.sink.end();
  const { value: logsOut, error: extractError } = await collected;
  if (signal?.aborted && !group)
    return {
      result: { exitCode: undefined, timedOut: false, aborted: true, stdout: '', stderr: '', durationMs: 0 },
      collectMs: 0,
    };

  if (events.NO_TAR !== undefined) return undefined;
  if (events.PREP_FAILED !== undefined)
    throw new InfraError(`preparing the verifier failed: ${events.PREP_FAILED}${details ? `: ${details}` : ''}`);
  if (events.PREPARED === undefined) {
    throw new InfraError('could not run bash as root in the container to verify the trial', {
      retryable: false,
      hint: 'the Docker provider runs every command with bash: the image must have bash',
    });
  }
  const timedOut = trigger?.timedOut ?? false;
  const aborted = trigger?.aborted ?? signal?.aborted === true;
  const exitCode = await unlessContainerDied(
    container,
    events.RC !== undefined && !timedOut && !aborted ? Number(events.RC) : undefined,
  );
  if (events.RC === undefined && !timedOut && !aborted)
    throw new InfraError('the verifier exec ended before the verifier did (the container stopped?)');

  if (extractError || !logsOut)
    throw new InfraError(`copying the verifier's logs out failed: ${errorMessage(extractError)}`, {
      cause: extractError,
    });
  if (events.COLLECT_FAILED !== undefined)
    throw new InfraError("copying the verifier's logs out failed (tar -c in the container)");
  const result: ExecResult = {
    exitCode,
    timedOut,
    aborted,
    stdout: logsOut.stdout,
    stderr: logsOut.stderr,
    durationMs: Math.round((ranAt || performance.now()) - (started || performance.now())),
  };
  return {
    result,
    collectMs: Math.round(performance.now() - (ranAt || performance.now())),
    ...(logsOut.skipped.length > 0 ? { skipped: logsOut.skipped } : {}),
  };
}
