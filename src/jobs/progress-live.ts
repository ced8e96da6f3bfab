import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { Arm } from '../agents/types.js';
import { ARMS, type TrialResult, type TrialStatus } from '../results/schema.js';
import type { Redactor } from '../util/secrets.js';
import type { ProgressReporter } from './progress.js';
import type { JobEvent } from './run-job.js';

interface RunningTrial {
  label: string;
  phase: string;
  startedAt: number;
}

interface ArmCount {
  passed: number;
  finished: number;
}

/** Statuses shown as errors in the live display, in this order; infra and verifier errors are always shown. */
const ERROR_STATUSES: ReadonlyArray<{ status: TrialStatus; label: string; always: boolean }> = [
  { status: 'infra_error', label: 'infra', always: true },
  { status: 'verifier_error', label: 'verifier', always: true },
  { status: 'agent_timeout', label: 'agent timeout', always: false },
  { status: 'agent_error', label: 'agent error', always: false },
  { status: 'budget_exceeded', label: 'budget', always: false },
  { status: 'replay_miss', label: 'replay miss', always: false },
];

/** 4.2s under a minute, 3m07s under an hour, 1h05m beyond. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

function trialLabel(task: string, agent: string, arm: string, name: string): string {
  const index = name.split('__').at(-1);
  return `${task} · ${agent} · ${arm} #${index}`;
}

function finishedLine(r: TrialResult): string {
  const reward = r.reward === undefined ? 'no reward' : `reward=${r.reward}`;
  const why = r.error ? ` — ${r.error.message}` : '';
  return `${trialLabel(r.task, r.model ? `${r.agent}/${r.model}` : r.agent, r.arm, r.trial_name)} ${r.status} ${reward} (${formatDuration(r.timings.total_ms)})${why}`;
}

function fitToWidth(line: string, width: number): string {
  // One column short of the edge: a line that fills the width makes some terminals wrap.
  const max = Math.max(10, width - 1);
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * What the live display knows, fed by JobEvents and rendered for a given moment: pure, so it is tested
 * without a terminal. ETA = mean finished-trial duration × remaining trials ÷ the trials that can run at once.
 */
export class LiveProgressState {
  total = 0;
  done = 0;
  private planned = false;
  private readonly startedAt: number;
  private readonly arms = new Map<Arm, ArmCount>();
  private readonly statuses = new Map<TrialStatus, number>();
  private readonly running = new Map<string, RunningTrial>();
  private runDurationMs = 0;
  private runFinished = 0;
  private resumedDurationMs = 0;
  private resumedFinished = 0;
  private ended: 'done' | 'cancelled' | undefined;

  constructor(
    private readonly concurrency: number,
    now: number,
  ) {
    this.startedAt = now;
  }

  /** Applies an event; returns lines worth keeping above the display (build logs, errors, retries). */
  apply(event: JobEvent, now: number): string[] {
    switch (event.type) {
      case 'planned':
        this.planned = true;
        this.total = event.total;
        return [];
      case 'log':
        return [`  [${event.task}] ${event.line}`];
      case 'trial-start':
        this.running.set(event.name, {
          label: trialLabel(event.task, event.agent, event.arm, event.name),
          phase: 'starting',
          startedAt: now,
        });
        return [];
      case 'trial-phase': {
        const trial = this.running.get(event.name);
        if (trial) trial.phase = event.phase;
        return [];
      }
      case 'trial-retry': {
        const trial = this.running.get(event.name);
        if (trial) trial.phase = `retry ${event.attempt} in ${formatDuration(event.delayMs)}`;
        return [
          `retrying ${trial?.label ?? event.name} (attempt ${event.attempt + 1}) in ${formatDuration(event.delayMs)}: ${event.message}`,
        ];
      }
      case 'trial-end': {
        this.running.delete(event.name);
        const r = event.result;
        this.done += 1;
        this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
        const arm = this.arms.get(r.arm) ?? { passed: 0, finished: 0 };
        arm.finished += 1;
        if (r.status === 'passed') arm.passed += 1;
        this.arms.set(r.arm, arm);
        if (event.resumed) {
          this.resumedDurationMs += r.timings.total_ms;
          this.resumedFinished += 1;
          return [];
        }
        this.runDurationMs += r.timings.total_ms;
        this.runFinished += 1;
        return r.status === 'passed' || r.status === 'failed' ? [] : [finishedLine(r)];
      }
    }
  }

  /** Remaining time, or undefined before any trial finished. */
  etaMs(): number | undefined {
    const remaining = this.total - this.done;
    if (remaining <= 0) return 0;
    // This run's trials say most about this machine now; resumed ones are the fallback.
    const [sum, count] =
      this.runFinished > 0 ? [this.runDurationMs, this.runFinished] : [this.resumedDurationMs, this.resumedFinished];
    if (count === 0) return undefined;
    // Fewer trials than slots left: they run side by side, not faster.
    return ((sum / count) * remaining) / Math.max(1, Math.min(this.concurrency, remaining));
  }

  end(how: 'done' | 'cancelled'): void {
    this.ended = how;
    this.running.clear();
  }

  render(now: number, screen: { width: number; height: number }): string {
    const elapsed = formatDuration(now - this.startedAt);
    const lines: string[] = [];
    const bar = (): string => {
      const width = 20;
      const filled = this.total > 0 ? Math.round((this.done / this.total) * width) : 0;
      return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    };
    if (!this.planned) lines.push('skill-eval  planning trials…');
    else if (this.ended === 'cancelled')
      lines.push(`skill-eval  stopped: ${this.done}/${this.total} trials done · elapsed ${elapsed}`);
    else if (this.ended === 'done')
      lines.push(`skill-eval  ${bar()} ${this.done}/${this.total} trials done · elapsed ${elapsed}`);
    else {
      const eta = this.etaMs();
      lines.push(
        `skill-eval  ${bar()} ${this.done}/${this.total} done · ${this.running.size} running · elapsed ${elapsed} · ETA ${eta === undefined ? '…' : formatDuration(eta)}`,
      );
    }
    const arms = [...this.arms.entries()]
      .sort(([a], [b]) => armRank(a) - armRank(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map(([arm, count]) => `${arm} ${count.passed}/${count.finished}`);
    lines.push(`  passed   ${arms.length > 0 ? arms.join(' · ') : '—'}`);
    const errors = ERROR_STATUSES.filter((e) => e.always || (this.statuses.get(e.status) ?? 0) > 0).map(
      (e) => `${e.label} ${this.statuses.get(e.status) ?? 0}`,
    );
    const errorCount = ERROR_STATUSES.reduce((n, e) => n + (this.statuses.get(e.status) ?? 0), 0);
    const errorLine = `  errors   ${errors.join(' · ')}`;
    if (this.ended === undefined && this.planned) {
      lines.push(errorLine);
      if (this.running.size > 0) {
        lines.push('  running');
        const trials = [...this.running.values()];
        const labelWidth = Math.max(...trials.map((t) => t.label.length));
        const phaseWidth = Math.max(...trials.map((t) => t.phase.length));
        // Keep the whole display on screen: log-update cuts from the top otherwise.
        const room = Math.max(1, screen.height - lines.length - 2);
        const shown = trials.length > room ? trials.slice(0, room - 1) : trials;
        for (const t of shown)
          lines.push(
            `    ${t.label.padEnd(labelWidth)}  ${t.phase.padEnd(phaseWidth)}  ${formatDuration(now - t.startedAt)}`,
          );
        if (shown.length < trials.length) lines.push(`    … and ${trials.length - shown.length} more`);
      }
    } else {
      lines.push(errorLine);
    }
    return lines
      .map((line) => fitToWidth(line, screen.width))
      .map((line) => (line.startsWith('  errors') && errorCount > 0 ? pc.red(line) : line))
      .join('\n');
  }
}

export interface LiveProgressOptions {
  stream: NodeJS.WriteStream;
  redactor: Redactor;
  concurrency: number;
  /** Redraw period; the elapsed times tick at this rate. */
  intervalMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** A display redrawn in place on a terminal (log-update), with notable lines kept above it. */
export function createLiveProgress(options: LiveProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  const { stream, redactor } = options;
  const state = new LiveProgressState(options.concurrency, now());
  const update = createLogUpdate(stream);
  let stopped = false;
  const frame = (): string =>
    redactor.redact(state.render(now(), { width: stream.columns ?? 80, height: stream.rows ?? 24 }));
  const draw = (): void => {
    if (!stopped) update(frame());
  };
  const persist = (lines: readonly string[]): void => {
    if (stopped) {
      for (const line of lines) stream.write(`${redactor.redact(line)}\n`);
      return;
    }
    update.clear();
    stream.write(`${redactor.redact(lines.join('\n'))}\n`);
    draw();
  };
  const timer = setInterval(draw, options.intervalMs ?? 250);
  timer.unref();
  draw();
  return {
    onEvent(event) {
      const keep = state.apply(event, now());
      if (keep.length > 0) persist(keep);
      else if (event.type === 'planned' || event.type === 'trial-start') draw();
    },
    note(line) {
      persist([line]);
    },
    stop(stopOptions = {}) {
      if (stopped) return;
      clearInterval(timer);
      state.end(stopOptions.cancelled ? 'cancelled' : 'done');
      update(frame());
      update.done();
      stopped = true;
    },
  };
}

/** with-skills, then no-skills (as always), then the other arms by name. */
function armRank(arm: Arm): number {
  const index = (ARMS as readonly string[]).indexOf(arm);
  return index < 0 ? ARMS.length : index;
}
