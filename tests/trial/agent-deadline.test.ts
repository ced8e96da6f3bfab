import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentDeadline } from '../../src/trial/phases/agent-deadline.js';

const never = new Promise<string>(() => undefined);

describe('agent deadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts the agent at the deadline and stops waiting 5 s later', async () => {
    const deadline = new AgentDeadline(1_000);
    let settled: string | undefined;
    void deadline.race(never).then((value) => {
      settled = value;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(deadline.expired).toBe(false);
    expect(deadline.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(deadline.expired).toBe(true);
    expect(deadline.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe('timeout');
  });

  it("takes the agent's result when it finishes within the grace period, still counted as expired", async () => {
    const deadline = new AgentDeadline(1_000);
    let finish: (value: string) => void = () => undefined;
    const run = deadline.race(new Promise<string>((resolve) => (finish = resolve)));
    await vi.advanceTimersByTimeAsync(2_000);
    finish('done');
    expect(await run).toBe('done');
    expect(deadline.expired).toBe(true);
  });

  it('stops waiting at once on cancel, and aborts the signal', async () => {
    const cancel = new AbortController();
    const deadline = new AgentDeadline(60_000, cancel.signal);
    const run = deadline.race(never);
    cancel.abort();
    expect(await run).toBe('cancel');
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired).toBe(false);
  });

  it('stops waiting at once when the trial was cancelled before the agent started', async () => {
    const cancel = new AbortController();
    cancel.abort();
    const deadline = new AgentDeadline(60_000, cancel.signal);
    expect(await deadline.race(never)).toBe('cancel');
    expect(deadline.signal.aborted).toBe(true);
  });

  it('does nothing more once cleared', async () => {
    const cancel = new AbortController();
    const deadline = new AgentDeadline(1_000, cancel.signal);
    expect(await deadline.race(Promise.resolve('done'))).toBe('done');
    deadline.clear();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(deadline.expired).toBe(false);
    expect(deadline.signal.aborted).toBe(false);
  });
});
