import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnalysisAccumulator } from '../../src/analytics/aggregate.js';
import { formatFunnel } from '../../src/analytics/format.js';
import { FunnelCounter, parseSessionFunnel } from '../../src/analytics/funnel.js';
import type { TrialRecord } from '../../src/results/read.js';
import { EMPTY_READ, trialRecord } from './records.js';

const trial = (overrides: Partial<TrialRecord>): TrialRecord =>
  trialRecord({ skills: [{ name: 'lint' }], ...overrides });

const line = (at: string, entry: Record<string, unknown>): string => JSON.stringify({ at, ...entry });
const SESSION = [
  line('2026-01-01T00:00:00.000Z', { type: 'phase', phase: 'skills', state: 'start' }),
  line('2026-01-01T00:00:01.000Z', { type: 'phase', phase: 'agent', state: 'start' }),
  line('2026-01-01T00:00:02.000Z', { type: 'command', source: 'agent', command: 'ls /skills' }),
  line('2026-01-01T00:00:04.500Z', { type: 'note', text: 'skill activated: lint (Read SKILL.md)' }),
  'not json',
  line('2026-01-01T00:00:05.000Z', {
    type: 'tool_call',
    tool: 'Bash',
    input: { command: 'bash /skills/lint/scripts/run.sh' },
  }),
  line('2026-01-01T00:00:09.000Z', { type: 'note', text: 'skill activated: other (Read SKILL.md)' }),
].join('\n');

describe('parseSessionFunnel', () => {
  it('times the first open from the agent phase start and sees a skill script run', () => {
    expect(parseSessionFunnel(SESSION, ['lint'])).toEqual({ firstOpenMs: 3500, resourcesUsed: true });
  });

  it('does not count another folder named scripts, a verifier command, or a log without an open', () => {
    const text = [
      line('2026-01-01T00:00:01.000Z', { type: 'phase', phase: 'agent', state: 'start' }),
      line('2026-01-01T00:00:02.000Z', { type: 'command', source: 'agent', command: 'bash ./scripts/build.sh' }),
      line('2026-01-01T00:00:03.000Z', {
        type: 'command',
        source: 'verifier',
        command: 'cat /skills/lint/references/a.md',
      }),
      line('2026-01-01T00:00:04.000Z', {
        type: 'command',
        source: 'agent',
        command: 'cat /skills/linter/references/a.md',
      }),
    ].join('\n');
    expect(parseSessionFunnel(text, ['lint'])).toEqual({ firstOpenMs: undefined, resourcesUsed: false });
  });

  it('sees references/ read through a tool call', () => {
    const text = line('2026-01-01T00:00:02.000Z', {
      type: 'tool_call',
      tool: 'Read',
      input: { file_path: '/home/agent/.claude/skills/lint/references/rules.md' },
    });
    expect(parseSessionFunnel(text, ['lint']).resourcesUsed).toBe(true);
  });
});

describe('FunnelCounter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts the stages from result.json fields and says what it did not measure', () => {
    const counter = new FunnelCounter(false);
    counter.add(trial({ skillsPresent: true, skillsOpened: true, skillsActivated: ['lint'] }));
    counter.add(trial({ skillsPresent: true, skillsOpened: false, skillsActivated: [] }));
    counter.add(trial({ skillsPresent: false, skillsOpened: false }));
    counter.add(trial({ skillsPresent: undefined, skillsOpened: undefined, skillsActivated: ['lint'] }));
    const funnel = counter.report()!;
    expect(funnel.trials).toBe(4);
    expect(funnel.stages).toEqual([
      { stage: 'supplied', count: 4, rate: 1, known: 4 },
      { stage: 'present', count: 2, rate: 0.5, known: 3 },
      { stage: 'listed', known: 0, note: 'not reported (no agent reports which skills it listed)' },
      { stage: 'opened', count: 2, rate: 0.5, known: 4 },
      { stage: 'resources_used', known: 0, note: 'not measured (analyze --funnel reads session.jsonl)' },
    ]);
    expect(funnel.timeToFirstOpenMs).toBeUndefined();
    expect(formatFunnel(funnel)).toBe(
      'supplied 4 → present where the agent looks 2 (50.0% of 3 known) → listed by the agent: not reported (no agent reports which skills it listed) → SKILL.md opened 2 (50.0%) → scripts/references used: not measured (analyze --funnel reads session.jsonl); time to first open: not measured (--funnel)',
    );
  });

  it('reads session logs only when asked, and a missing log is not counted', () => {
    const log = join(dir, 'session.jsonl');
    writeFileSync(log, SESSION);
    const counter = new FunnelCounter(true);
    counter.add(trial({ sessionLog: log, skillsActivated: ['lint'] }));
    counter.add(trial({ sessionLog: join(dir, 'missing.jsonl'), skillsActivated: [] }));
    const funnel = counter.report()!;
    expect(funnel.sessionLogsRead).toBe(1);
    expect(funnel.stages[4]).toEqual({ stage: 'resources_used', count: 1, rate: 0.5, known: 1 });
    expect(funnel.timeToFirstOpenMs).toEqual({ trials: 1, medianMs: 3500, meanMs: 3500 });
    expect(formatFunnel(funnel)).toContain('first open 3.5 s after the agent started (median of 1)');
  });

  it('has no funnel when no trial was given skills', () => {
    const counter = new FunnelCounter(false);
    counter.add(trial({ skills: [] }));
    expect(counter.report()).toBeUndefined();
  });

  it('is the with-skills arm only, in the analysis report', () => {
    const accumulator = new AnalysisAccumulator({ passThreshold: 1, includeErrorsAsFailures: false, k: [1] });
    accumulator.add(trial({ skillsActivated: ['lint'] }));
    accumulator.add(trial({ arm: 'no-skills', skills: [] }));
    accumulator.add(trial({ status: 'infra_error', reward: undefined }));
    const summary = accumulator.finish(EMPTY_READ).configs[0]!.summary;
    expect(summary.funnel?.trials).toBe(1);
    expect(summary.funnel?.stages[3]).toEqual({ stage: 'opened', count: 1, rate: 1, known: 1 });
  });
});
