import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { errorMessage, InfraError } from '../../errors.js';
import { StopTrigger, TailBuffer } from '../../util/process-group.js';
import type { ExecOptions, ExecResult } from '../types.js';
import { SCRIPTS } from './scripts.js';
import {
  exitCodeOf,
  GROUP_WORD,
  MARKER_PREFIX,
  type ProcessGroup,
  parseGroup,
  readMarker,
  startExec,
  streamEnded,
  terminateGroup,
} from './transport.js';

/** After SIGKILL, how long the exec's output may stay open (a process that escaped its group) before we stop reading. */
const DRAIN_AFTER_KILL_MS = 2_000;

export interface ContainerExecOptions extends ExecOptions {
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
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

/**
 * The command's stderr, minus the wrapper's first line (exec.sh's `EXEC <pgid> <sid>` marker): held back until that
 * line is seen, or clearly absent (then everything is the command's).
 */
class StderrWithMarker {
  group: ProcessGroup | undefined;
  private head: string | undefined = '';
  constructor(private readonly deliver: (text: string) => void) {}

  push(text: string): void {
    if (this.head === undefined) {
      this.deliverText(text);
      return;
    }
    this.head += text;
    const newline = this.head.indexOf('\n');
    const couldBeMarker = MARKER_PREFIX.startsWith(this.head.slice(0, MARKER_PREFIX.length));
    if (newline < 0 && couldBeMarker) return;
    const head = this.head;
    this.head = undefined;
    const marker = newline >= 0 ? readMarker(head.slice(0, newline)) : undefined;
    if (marker?.word === GROUP_WORD) {
      this.group = parseGroup(marker.value);
      this.deliverText(head.slice(newline + 1));
    } else {
      this.deliverText(head);
    }
  }

  /** At the end: a first line without its newline is the command's. */
  flush(): void {
    const head = this.head;
    this.head = undefined;
    if (head) this.deliverText(head);
  }

  private deliverText(text: string): void {
    if (text) this.deliver(text);
  }
}

function couldNotRunBash(exitCode: number | undefined, output: string): InfraError {
  return new InfraError(
    `could not run bash in the container (exit code ${exitCode ?? 'unknown'})${output ? `: ${output.slice(-500)}` : ''}`,
    {
      retryable: false,
      hint: 'the Docker provider runs every command with bash: the image must have bash, and the user and working directory must exist',
    },
  );
}

/**
 * Runs `bash -c command` in a running container through exec.sh: stdout and stderr kept apart, real exit code from
 * exec inspect, stdin closed unless given. On timeout or abort, the command's process group (and its session) gets
 * SIGTERM, then SIGKILL after the grace period; the result then has `exitCode: undefined`.
 */
export async function execInContainer(
  container: Docker.Container,
  command: string,
  options: ContainerExecOptions,
): Promise<ExecResult> {
  const started = performance.now();
  if (options.signal?.aborted)
    return { exitCode: undefined, timedOut: false, aborted: true, stdout: '', stderr: '', durationMs: 0 };
  const hasStdin = options.stdin !== undefined;
  let running: Awaited<ReturnType<typeof startExec>>;
  try {
    running = await startExec(container, {
      cmd: ['bash', '-c', SCRIPTS.exec, 'skill-eval-exec', command],
      user: options.user,
      cwd: options.cwd,
      env: options.env,
      stdin: hasStdin,
    });
  } catch (error) {
    throw new InfraError(`docker exec failed for \`${command.slice(0, 80)}\`: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const { exec, stream } = running;

  const stdout = new TailBuffer();
  const stderr = new TailBuffer();
  const outSink = textSink((text) => {
    stdout.push(text);
    options.onStdout?.(text);
  });
  const errText = new StderrWithMarker((text) => {
    stderr.push(text);
    options.onStderr?.(text);
  });
  const errSink = textSink((text) => errText.push(text));
  container.modem.demuxStream(stream, outSink, errSink);
  const ended = streamEnded(stream);
  let finished = false;
  void ended.then(() => {
    finished = true;
  });
  if (hasStdin) {
    stream.write(options.stdin);
    stream.end(); // half-close: the engine closes the command's stdin
  }

  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    stopping ??= (async () => {
      const isSettled = (): boolean => finished;
      await terminateGroup(container, () => errText.group, { graceMs: options.killGraceMs, settled: ended, isSettled });
      if (finished) return;
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
  errText.flush();

  const exitCode = timedOut || aborted ? undefined : await exitCodeOf(container, exec);
  // Without the marker the wrapper never ran: bash is missing, or the user/workdir does not exist.
  if (!errText.group && !timedOut && !aborted && (exitCode === undefined || exitCode === 126 || exitCode === 127))
    throw couldNotRunBash(exitCode, `${stdout.toString()}${stderr.toString()}`.trim());
  const durationMs = Math.round(performance.now() - started);
  return { exitCode, timedOut, aborted, stdout: stdout.toString(), stderr: stderr.toString(), durationMs };
}
