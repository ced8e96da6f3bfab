import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Arm } from '../../src/agents/types.js';
import { chooseProgressMode, createProgressReporter } from '../../src/jobs/progress.js';
import { createLiveProgress, formatDuration, LiveProgressState } from '../../src/jobs/progress-live.js';
import { handleCancelSignals } from '../../src/jobs/signals.js';
import { type TrialResult, type TrialStatus, trialResultSchema } from '../../src/results/schema.js';
import { Redactor } from '../../src/util/secrets.js';

function result(
  task: string,
  arm: Arm,
  index: number,
  status: TrialStatus,
  totalMs: number,
  message?: string,
): TrialResult {
  // Parsed, so the fixtures stay valid results as the schema evolves.
  return trialResultSchema.parse({
    schema: 'skill-eval/trial-result@1',
    skill_eval_version: '0.0.0',
    job_id: 'job',
    trial_id: `${task}-${arm}-${index}`,
    trial_name: `${task}__oracle__${arm}__${index}`,
    trial_index: index,
    task,
    task_checksum: 'sha',
    agent: 'oracle',
    provider: 'local',
    arm,
    status,
    reward: status === 'passed' ? 1 : status === 'failed' ? 0 : undefined,
    error: message ? { kind: 'infra', phase: 'environment_setup', message } : undefined,
    timings: { started_at: '', finished_at: '', total_ms: totalMs, phases: {} },
    skills: [],
    retries: [],
    files: { session_log: 'session.jsonl', agent: 'agent', verifier: 'verifier', artifacts: 'artifacts' },
  });
}

/** A terminal-sized stream that keeps everything written to it. */
function fakeTerminal(): { stream: NodeJS.WriteStream; output: () => string } {
  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      written += String(chunk);
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 100, rows: 30 });
  return { stream, output: () => written };
}

describe('chooseProgressMode', () => {
  it('is live only on a terminal outside CI, plain lines otherwise, nothing with --quiet', () => {
    expect(chooseProgressMode({ quiet: false, isTTY: true, env: {} })).toBe('live');
    expect(chooseProgressMode({ quiet: false, isTTY: true, env: { CI: 'true' } })).toBe('lines');
    expect(chooseProgressMode({ quiet: false, isTTY: true, env: { CI: 'false' } })).toBe('live');
    expect(chooseProgressMode({ quiet: false, isTTY: true, env: { TERM: 'dumb' } })).toBe('lines');
    expect(chooseProgressMode({ quiet: false, isTTY: false, env: {} })).toBe('lines');
    expect(chooseProgressMode({ quiet: false, isTTY: undefined, env: {} })).toBe('lines');
    expect(chooseProgressMode({ quiet: true, isTTY: true, env: {} })).toBe('quiet');
  });
});

describe('LiveProgressState', () => {
  it('counts done/total, passes per arm and errors; shows running trials with phase and elapsed time', () => {
    const state = new LiveProgressState(2, 0);
    // One trial from an earlier run of the job, before the plan is announced.
    state.apply(
      {
        type: 'trial-end',
        name: 'a__oracle__with-skills__1',
        result: result('a', 'with-skills', 1, 'passed', 10_000),
        resumed: true,
      },
      0,
    );
    state.apply({ type: 'planned', total: 8, alreadyDone: 1 }, 0);
    state.apply(
      { type: 'trial-start', name: 'a__oracle__no-skills__1', task: 'a', arm: 'no-skills', agent: 'oracle' },
      1_000,
    );
    state.apply(
      { type: 'trial-start', name: 'b__oracle__with-skills__1', task: 'b', arm: 'with-skills', agent: 'oracle' },
      1_000,
    );
    state.apply({ type: 'trial-phase', name: 'a__oracle__no-skills__1', phase: 'agent' }, 1_500);
    state.apply({ type: 'trial-phase', name: 'b__oracle__with-skills__1', phase: 'verifier' }, 2_000);
    const screen = state.render(4_200, { width: 120, height: 30 });
    expect(screen).toContain('1/8 done');
    expect(screen).toContain('2 running');
    expect(screen).toContain('elapsed 4.2s');
    // Only a resumed trial so far: its duration is the fallback estimate. 10 s × 7 remaining / 2 at once.
    expect(screen).toContain('ETA 35.0s');
    expect(screen).toMatch(/passed {3}with-skills 1\/1\n/);
    expect(screen).toMatch(/errors {3}infra 0 · verifier 0\n/);
    expect(screen).toContain('\n    a · oracle · no-skills #1    agent     3.2s\n');
    expect(screen).toContain('\n    b · oracle · with-skills #1  verifier  3.2s');
  });

  it("estimates the remaining time from this run's trials, keeps errors above the display, and ends without the running list", () => {
    const state = new LiveProgressState(4, 0);
    state.apply({ type: 'planned', total: 10, alreadyDone: 0 }, 0);
    expect(state.etaMs()).toBeUndefined();
    expect(state.render(0, { width: 120, height: 30 })).toContain('ETA …');
    for (const [i, arm, status, ms] of [
      [1, 'with-skills', 'passed', 2_000],
      [1, 'no-skills', 'failed', 4_000],
    ] as const) {
      state.apply({ type: 'trial-start', name: `t__oracle__${arm}__${i}`, task: 't', arm, agent: 'oracle' }, 0);
      expect(
        state.apply(
          {
            type: 'trial-end',
            name: `t__oracle__${arm}__${i}`,
            result: result('t', arm, i, status, ms),
            resumed: false,
          },
          ms,
        ),
      ).toEqual([]);
    }
    // mean 3 s × 8 remaining / 4 at once
    expect(state.etaMs()).toBe(6_000);
    const kept = state.apply(
      {
        type: 'trial-end',
        name: 't__oracle__with-skills__2',
        result: result('t', 'with-skills', 2, 'infra_error', 3_000, 'docker daemon went away'),
        resumed: false,
      },
      5_000,
    );
    expect(kept).toEqual(['t · oracle · with-skills #2 infra_error no reward (3.0s) — docker daemon went away']);
    expect(
      state.apply(
        {
          type: 'trial-end',
          name: 't__oracle__no-skills__2',
          result: result('t', 'no-skills', 2, 'verifier_error', 3_000),
          resumed: false,
        },
        5_000,
      ),
    ).toHaveLength(1);
    expect(state.apply({ type: 'log', task: 't', line: 'Step 1/3' }, 5_000)).toEqual(['  [t] Step 1/3']);
    // Fewer trials left than slots: they run side by side, so the estimate is one mean duration.
    const small = new LiveProgressState(8, 0);
    small.apply({ type: 'planned', total: 3, alreadyDone: 0 }, 0);
    small.apply(
      { type: 'trial-end', name: 'x', result: result('x', 'no-skills', 1, 'passed', 5_000), resumed: false },
      0,
    );
    expect(small.etaMs()).toBe(5_000);

    const live = state.render(6_000, { width: 120, height: 30 });
    expect(live).toContain('4/10 done · 0 running');
    expect(live).toMatch(/passed {3}with-skills 1\/2 · no-skills 0\/2/);
    expect(live).toMatch(/errors {3}infra 1 · verifier 1/);
    state.end('cancelled');
    const final = state.render(7_000, { width: 120, height: 30 });
    expect(final).toMatch(/^skill-eval {2}stopped: 4\/10 trials done · elapsed 7\.0s/);
    expect(final).not.toContain('running');
  });

  it('fits the terminal: long lines are cut, and running trials beyond the screen height are summarised', () => {
    const state = new LiveProgressState(20, 0);
    state.apply({ type: 'planned', total: 20, alreadyDone: 0 }, 0);
    for (let i = 1; i <= 20; i++)
      state.apply(
        {
          type: 'trial-start',
          name: `a_very_long_task_name_indeed__oracle__with-skills__${i}`,
          task: 'a_very_long_task_name_indeed',
          arm: 'with-skills',
          agent: 'oracle',
        },
        0,
      );
    const screen = state.render(1_000, { width: 40, height: 12 });
    const lines = screen.split('\n');
    expect(lines.length).toBeLessThanOrEqual(12);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(39);
    expect(screen).toMatch(/… and \d+ more/);
  });

  it('formats durations for people', () => {
    expect(formatDuration(4_230)).toBe('4.2s');
    expect(formatDuration(187_000)).toBe('3m07s');
    expect(formatDuration(3_900_000)).toBe('1h05m');
  });
});

describe('createLiveProgress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('redraws in place, keeps notes and errors above the display, redacts secrets, and leaves the final frame', () => {
    // The redraw interval runs on fake timers: each advance is exactly that many ticks, on any machine load.
    vi.useFakeTimers();
    const terminal = fakeTerminal();
    const secret = 'sk-live-0123456789';
    const progress = createLiveProgress({
      stream: terminal.stream,
      redactor: new Redactor([secret]),
      concurrency: 2,
      intervalMs: 10,
    });
    progress.onEvent({ type: 'planned', total: 2, alreadyDone: 0 });
    progress.onEvent({
      type: 'trial-start',
      name: `t__oracle__with-skills__1`,
      task: 't',
      arm: 'with-skills',
      agent: 'oracle',
    });
    progress.onEvent({ type: 'log', task: 't', line: `pulling with token ${secret}` });
    const beforeTicks = terminal.output().length;
    // A second of ticks changes the elapsed times, so a redraw shows (log-update skips an unchanged frame).
    vi.advanceTimersByTime(1_000);
    expect(terminal.output().length).toBeGreaterThan(beforeTicks);
    progress.note('stopping: no new trials');
    progress.onEvent({
      type: 'trial-end',
      name: 't__oracle__with-skills__1',
      result: result('t', 'with-skills', 1, 'infra_error', 100, `auth failed for ${secret}`),
      resumed: false,
    });
    progress.stop({ cancelled: true });
    progress.stop(); // idempotent
    const output = terminal.output();
    expect(output).not.toContain(secret);
    expect(output).toContain('[t] pulling with token [REDACTED]');
    expect(output).toContain('auth failed for [REDACTED]');
    expect(output).toContain('stopping: no new trials');
    expect(output).toContain('t · oracle · with-skills #1  starting');
    // log-update erases the previous frame before each redraw.
    expect(output).toContain('\u001B[2K');
    expect(output.trimEnd().split('\n').slice(-3)[0]).toMatch(/skill-eval {2}stopped: 1\/2 trials done/);
    const afterStop = output.length;
    vi.advanceTimersByTime(1_000);
    expect(terminal.output().length).toBe(afterStop); // no redraw after stop
  });
});

describe('createProgressReporter', () => {
  it('writes one redacted line per finished trial in lines mode and nothing in quiet mode', () => {
    const lines = fakeTerminal();
    const reporter = createProgressReporter('lines', {
      redactor: new Redactor(['hunter22']),
      concurrency: 1,
      stream: lines.stream,
    });
    reporter.onEvent({ type: 'planned', total: 1, alreadyDone: 0 });
    reporter.onEvent({
      type: 'trial-end',
      name: 't',
      result: result('t', 'no-skills', 1, 'passed', 1_200),
      resumed: false,
    });
    reporter.note('stopping because of hunter22');
    reporter.stop();
    expect(lines.output()).toBe(
      '1 trials planned\n[1/1] t oracle no-skills #1 passed reward=1 (1.2s)\nstopping because of [REDACTED]\n',
    );

    const quiet = fakeTerminal();
    const silent = createProgressReporter('quiet', {
      redactor: new Redactor([]),
      concurrency: 1,
      stream: quiet.stream,
    });
    silent.onEvent({ type: 'planned', total: 1, alreadyDone: 0 });
    silent.note('stopping');
    silent.stop();
    expect(quiet.output()).toBe('');
  });
});

describe('handleCancelSignals', () => {
  it('cancels on the first signal, forces on the second, and restores the default when disposed', async () => {
    const calls: string[] = [];
    const before = process.listenerCount('SIGUSR2');
    const dispose = handleCancelSignals({
      onCancel: (s) => calls.push(`cancel ${s}`),
      onForce: (s) => calls.push(`force ${s}`),
      signals: ['SIGUSR2'],
    });
    // Signals arrive asynchronously: wait for each delivery itself (a listener added after the handler's runs after it).
    const delivered = () => new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve()));
    let next = delivered();
    process.kill(process.pid, 'SIGUSR2');
    await next;
    next = delivered();
    process.kill(process.pid, 'SIGUSR2');
    await next;
    expect(calls).toEqual(['cancel SIGUSR2', 'force SIGUSR2']);
    dispose();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });
});
