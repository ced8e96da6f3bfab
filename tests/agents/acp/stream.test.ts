import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AcpStreamParser } from '../../../src/agents/acp/stream.js';
import { RunRecorder, SkillMatcher } from '../../../src/agents/cli/recorder.js';
import { SessionLog } from '../../../src/util/session-log.js';
import { tempDir } from '../../helpers/trials.js';

async function parserFor(): Promise<{ parser: AcpStreamParser; recorder: RunRecorder; notes: () => string[] }> {
  const log = new SessionLog(join(await tempDir('acp-stream'), 'session.jsonl'));
  const recorder = new RunRecorder(log, new SkillMatcher([], ['.claude/skills'], new Set(['superlint'])));
  const notes = (): string[] =>
    readFileSync(log.path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string })
      .flatMap((entry) => (entry.type === 'note' && entry.text ? [entry.text] : []));
  return { parser: new AcpStreamParser(recorder, log), recorder, notes };
}

function feed(parser: AcpStreamParser, ...events: object[]): void {
  for (const event of events) parser.onLine(JSON.stringify({ at: '2026-01-01T00:00:00Z', ...event }));
}

const chunk = (text: string) => ({
  type: 'update',
  update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } },
});

describe('AcpStreamParser (the bridge’s JSONL → the run’s events)', () => {
  it('joins message chunks into one message per turn; the last is the final message', async () => {
    const { parser, recorder } = await parserFor();
    feed(parser, chunk('Looking '), chunk('around.'), {
      type: 'update',
      update: { sessionUpdate: 'plan', entries: [] },
    });
    feed(parser, chunk('Done.'));
    parser.flushText();
    expect(recorder.events.map((e) => (e.type === 'message' ? e.text : e.type))).toEqual(['Looking around.', 'Done.']);
    expect(recorder.finalMessage).toBe('Done.');
    expect(recorder.modelCalls).toBe(1);
  });

  it('records a tool call once it completes or fails, with its input, output and the agent’s tool name', async () => {
    const { parser, recorder } = await parserFor();
    feed(
      parser,
      {
        type: 'update',
        update: {
          sessionUpdate: 'tool_call',
          toolCallId: 't1',
          title: 'Read SKILL.md',
          kind: 'read',
          status: 'pending',
          rawInput: { file_path: '.claude/skills/superlint/SKILL.md' },
          _meta: { claudeCode: { toolName: 'Read' } },
        },
      },
      {
        type: 'update',
        update: {
          sessionUpdate: 'tool_call_update',
          toolCallId: 't1',
          status: 'completed',
          content: [{ type: 'content', content: { type: 'text', text: '# superlint' } }],
        },
      },
      {
        type: 'update',
        update: { sessionUpdate: 'tool_call', toolCallId: 't2', title: 'Fetch', kind: 'fetch', status: 'failed' },
      },
    );
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'tool_call',
        tool: 'Read',
        input: { file_path: '.claude/skills/superlint/SKILL.md' },
        output: '# superlint',
        isError: false,
      }),
      expect.objectContaining({ type: 'skill', skill: 'superlint' }),
      expect.objectContaining({ type: 'tool_call', tool: 'Fetch', isError: true }),
    ]);
  });

  it('a command run through a bridge terminal is one command event with its exit code, not also a tool call', async () => {
    const { parser, recorder } = await parserFor();
    feed(
      parser,
      {
        type: 'update',
        update: { sessionUpdate: 'tool_call', toolCallId: 'b1', title: 'Bash', status: 'pending', rawInput: {} },
      },
      {
        type: 'update',
        update: {
          sessionUpdate: 'tool_call_update',
          toolCallId: 'b1',
          status: 'in_progress',
          content: [{ type: 'terminal', terminalId: 'term-1' }],
        },
      },
      {
        type: 'terminal',
        terminalId: 'term-1',
        command: 'superlint fix',
        exitCode: 3,
        signal: null,
        output: 'fix needs a check first\n',
        durationMs: 12,
      },
      {
        type: 'update',
        update: {
          sessionUpdate: 'tool_call_update',
          toolCallId: 'b1',
          status: 'completed',
          content: [{ type: 'content', content: { type: 'text', text: 'exit 3' } }],
        },
      },
    );
    expect(recorder.events).toEqual([
      expect.objectContaining({ type: 'command', command: 'superlint fix', exitCode: 3, durationMs: 12 }),
    ]);
  });

  it('permissions, plans and the stop reason go to the session log; usage only when the agent reported tokens', async () => {
    const { parser, notes } = await parserFor();
    feed(
      parser,
      { type: 'initialized', agentInfo: { name: 'my-agent', version: '1.2.3' } },
      { type: 'permission', toolCall: { title: 'rm -rf build' }, options: [], chosen: 'allow_always' },
      {
        type: 'update',
        update: { sessionUpdate: 'plan', entries: [{ content: 'fix the lint', status: 'in_progress' }] },
      },
      { type: 'stop', stopReason: 'end_turn' },
    );
    expect(notes()).toEqual([
      'acp: agent my-agent 1.2.3',
      'acp: permission auto-approved (allow_always): rm -rf build',
      'acp: plan: [in_progress] fix the lint',
      'acp: prompt ended: end_turn',
    ]);
    expect(parser.stopReason).toBe('end_turn');
    expect(parser.usage).toBeUndefined();
    feed(parser, {
      type: 'stop',
      stopReason: 'end_turn',
      usage: { inputTokens: 120, outputTokens: 30, cachedReadTokens: 20 },
    });
    expect(parser.usage).toEqual({ inputTokens: 120, outputTokens: 30, cachedInputTokens: 20 });
  });

  it('a bridge error is the run’s failure; lines that are not bridge events are ignored', async () => {
    const { parser, recorder } = await parserFor();
    parser.onLine('not json');
    feed(
      parser,
      { type: 'something-new' },
      { type: 'error', message: 'the ACP agent exited (code 1) before the prompt ended' },
    );
    expect(recorder.failure).toBe('the ACP agent exited (code 1) before the prompt ended');
    expect(recorder.modelCalls).toBe(0);
  });
});
