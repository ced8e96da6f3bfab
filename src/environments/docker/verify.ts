import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { errorMessage, InfraError } from '../../errors.js';
import { StopTrigger } from '../../util/process-group.js';
import type { ExecResult } from '../types.js';
import type { VerificationOutcome, VerificationRequest } from '../verification.js';
import { type CollectedLogs, collectLogs } from './collect.js';
import { SCRIPTS } from './scripts.js';
import {
  GROUP_WORD,
  type ProcessGroup,
  parseGroup,
  readMarker,
  startExec,
  streamEnded,
  terminateGroup,
  unlessContainerDied,
} from './transport.js';

/**
 * Where the verifier's stdout and stderr go in the container. A fixed name: known to the host before any output
 * arrives, and whatever the agent left there is removed first (after every agent process is stopped).
 */
export const VERIFY_OUTPUT_DIR = '/tmp/.skill-eval-verify';

/** How much of the text a failing preparation step printed is kept for its error message. */
const MAX_DETAIL_CHARS = 2_000;

export interface VerifyOptions {
  workdir: string;
  killGraceMs: number;
  /** The verifier's user ('' or undefined: root); verify.sh switches to it with runuser. */
  user: string | undefined;
  /** Pack of the tests directory (names relative to `/`, see packUploads in archive.ts), streamed to the exec's stdin. */
  packTests: () => Readable;
}

const notRun = (): VerificationOutcome => ({
  result: { exitCode: undefined, timedOut: false, aborted: true, stdout: '', stderr: '', durationMs: 0 },
  collectMs: 0,
});

/** verify.sh's progress, read from the exec's stderr: its marker lines, and what else a failing step printed. */
class VerifyProgress {
  readonly events: Record<string, string> = {};
  group: ProcessGroup | undefined;
  details = '';
  preparedAt = 0;
  ranAt = 0;
  readonly rcSeen: Promise<void>;
  readonly preparedSeen: Promise<void>;
  private onRc: () => void = () => undefined;
  private onPrepared: () => void = () => undefined;
  private rest = '';

  constructor() {
    this.rcSeen = new Promise<void>((resolve) => (this.onRc = resolve));
    this.preparedSeen = new Promise<void>((resolve) => (this.onPrepared = resolve));
  }

  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.rest += chunk.toString('utf8');
        for (let newline = this.rest.indexOf('\n'); newline >= 0; newline = this.rest.indexOf('\n')) {
          this.line(this.rest.slice(0, newline));
          this.rest = this.rest.slice(newline + 1);
        }
        callback();
      },
    });
  }

  private line(line: string): void {
    const marker = readMarker(line);
    if (!marker) {
      this.details = `${this.details}${this.details ? ' ' : ''}${line.trim()}`.slice(-MAX_DETAIL_CHARS);
      return;
    }
    this.events[marker.word] = marker.value;
    if (marker.word === 'PREPARED') {
      this.preparedAt = performance.now();
      this.onPrepared();
    } else if (marker.word === GROUP_WORD) {
      this.group = parseGroup(marker.value);
    } else if (marker.word === 'RC') {
      this.ranAt = performance.now();
      this.onRc();
    }
  }
}

function scriptArgs(request: VerificationRequest, options: VerifyOptions): string[] {
  return [
    String(Math.max(1, Math.ceil(options.killGraceMs / 1000))),
    request.logsDir,
    request.owner ?? '',
    request.testsPath,
    options.user ?? '',
    request.command,
    VERIFY_OUTPUT_DIR,
    String(request.remove.length),
    ...request.remove,
    ...request.collect.map((c) => c.from),
  ];
}

/**
 * The whole verification in one exec as root (verify.sh): the tests in on stdin, the logs and the verifier's
 * output out as one tar on stdout, progress as marker lines on stderr. The verifier's timeout starts with the
 * verifier; a timeout or cancel stops its group only (as any command's, transport.ts), and the script then still
 * sends the logs. A cancel before the verifier started just stops reading (dispose removes the container).
 */
export async function verifyInOneExec(
  container: Docker.Container,
  request: VerificationRequest,
  options: VerifyOptions,
): Promise<VerificationOutcome> {
  const { signal } = request.options;
  if (signal?.aborted) return notRun();
  let stream: Awaited<ReturnType<typeof startExec>>['stream'];
  try {
    ({ stream } = await startExec(container, {
      cmd: ['bash', '-c', SCRIPTS.verify, 'skill-eval-verify', ...scriptArgs(request, options)],
      user: '0',
      cwd: options.workdir,
      env: request.options.env,
      stdin: true,
    }));
  } catch (error) {
    throw new InfraError(`docker exec of the verifier failed: ${errorMessage(error)}`, { cause: error });
  }

  const progress = new VerifyProgress();
  // stdout: the tar of the logs, placed at their destinations as it arrives (the verifier's output kept in memory).
  const logs = collectLogs(request.collect, VERIFY_OUTPUT_DIR);
  const collected = logs.done.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  container.modem.demuxStream(stream, logs.sink, progress.sink());
  const ended = streamEnded(stream);

  // The tests go in on stdin; half-closing tells tar -x where they end.
  const tests = options.packTests();
  tests.on('error', () => stream.end());
  tests.pipe(stream);

  let finished = false;
  let trigger: StopTrigger | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    const isSettled = (): boolean => progress.events.RC !== undefined;
    stopping ??= terminateGroup(container, () => progress.group, {
      graceMs: options.killGraceMs,
      settled: Promise.race([progress.rcSeen, ended]),
      isSettled,
    });
  };
  const abortedEarly = (): void => {
    if (!progress.group) stream.destroy();
  };
  signal?.addEventListener('abort', abortedEarly, { once: true });
  void progress.preparedSeen.then(() => {
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
  if (signal?.aborted && !progress.group) return notRun();
  return outcomeOf(container, progress, trigger, request, { logsOut, extractError });
}

/** Reads what verify.sh reported into the outcome, or the InfraError that says which step failed. */
async function outcomeOf(
  container: Docker.Container,
  progress: VerifyProgress,
  trigger: StopTrigger | undefined,
  request: VerificationRequest,
  collected: { logsOut: CollectedLogs | undefined; extractError: unknown },
): Promise<VerificationOutcome> {
  const { events, details } = progress;
  if (events.PREP_FAILED !== undefined)
    throw new InfraError(`preparing the verifier failed: ${events.PREP_FAILED}${details ? `: ${details}` : ''}`);
  if (events.PREPARED === undefined) {
    throw new InfraError('could not run bash as root in the container to verify the trial', {
      retryable: false,
      hint: 'the Docker provider runs every command with bash: the image must have bash',
    });
  }
  const timedOut = trigger?.timedOut ?? false;
  const aborted = trigger?.aborted ?? request.options.signal?.aborted === true;
  const exitCode = await unlessContainerDied(
    container,
    events.RC !== undefined && !timedOut && !aborted ? Number(events.RC) : undefined,
  );
  if (events.RC === undefined && !timedOut && !aborted)
    throw new InfraError('the verifier exec ended before the verifier did (the container stopped?)');
  const { logsOut, extractError } = collected;
  if (extractError || !logsOut)
    throw new InfraError(`copying the verifier's logs out failed: ${errorMessage(extractError)}`, {
      cause: extractError,
    });
  if (events.COLLECT_FAILED !== undefined)
    throw new InfraError("copying the verifier's logs out failed (tar -c in the container)");
  const now = performance.now();
  const result: ExecResult = {
    exitCode,
    timedOut,
    aborted,
    stdout: logsOut.stdout,
    stderr: logsOut.stderr,
    durationMs: Math.round((progress.ranAt || now) - (progress.preparedAt || now)),
  };
  return {
    result,
    collectMs: Math.round(now - (progress.ranAt || now)),
    ...(logsOut.skipped.length > 0 ? { skipped: logsOut.skipped } : {}),
  };
}
