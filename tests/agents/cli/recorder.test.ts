import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecorder, SkillMatcher } from '../../../src/agents/cli/recorder.js';
import { SessionLog } from '../../../src/util/session-log.js';
import { tempDir } from '../../helpers/trials.js';

describe('SkillMatcher', () => {
  const matcher = new SkillMatcher(
    ['/tmp/t1/app/.claude/skills'],
    ['.claude/skills', '~/.agents/skills'],
    new Set(['superlint']),
  );

  it('finds placed skills in absolute and relative paths and command lines', () => {
    expect(matcher.find('/tmp/t1/app/.claude/skills/superlint/SKILL.md')).toEqual(['superlint']);
    expect(matcher.find('cat .claude/skills/superlint/SKILL.md && ls')).toEqual(['superlint']);
    expect(matcher.find('bash .agents/skills/superlint/scripts/run.sh')).toEqual(['superlint']);
  });

  it('ignores directories without a skill name and skills that were not placed', () => {
    expect(matcher.find('ls .claude/skills')).toEqual([]);
    expect(matcher.find('cat .claude/skills/other/SKILL.md')).toEqual([]);
    expect(new SkillMatcher([], ['.claude/skills'], new Set()).find('cat .claude/skills/superlint/SKILL.md')).toEqual(
      [],
    );
  });
});

describe('RunRecorder', () => {
  it('writes events to the session log as they happen and records each activation once', async () => {
    const log = new SessionLog(join(await tempDir('recorder'), 'session.jsonl'));
    const recorder = new RunRecorder(log, new SkillMatcher([], ['.agents/skills'], new Set(['superlint'])));
    recorder.message('assistant', 'looking');
    recorder.command({ command: 'cat .agents/skills/superlint/SKILL.md', exitCode: 0, output: 'x'.repeat(30_000) });
    recorder.toolCall({ tool: 'Read', input: { file_path: '.agents/skills/superlint/SKILL.md' }, output: 'ok' });
    recorder.toolCall({
      tool: 'Read',
      input: { file_path: '.agents/skills/superlint/SKILL.md' },
      output: 'no',
      isError: true,
    });
    recorder.message('assistant', 'done');
    expect(recorder.skillsActivated).toEqual(['superlint']);
    expect(recorder.finalMessage).toBe('done');
    expect(recorder.events.map((e) => e.type)).toEqual([
      'message',
      'command',
      'skill',
      'tool_call',
      'tool_call',
      'message',
    ]);
    const command = recorder.events[1];
    expect(command?.type === 'command' && command.stdout?.length).toBeLessThan(21_000);
    const lines = readFileSync(log.path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; text?: string });
    expect(lines.map((l) => l.type)).toEqual(['message', 'command', 'note', 'tool_call', 'tool_call', 'message']);
    expect(lines[2]?.text).toMatch(/skill activated: superlint/);
  });

  it('giving up sets the failure once and aborts its signal', async () => {
    const log = new SessionLog(join(await tempDir('recorder'), 'session.jsonl'));
    const recorder = new RunRecorder(log, new SkillMatcher([], [], new Set()));
    expect(recorder.giveUpSignal.aborted).toBe(false);
    recorder.giveUp('endpoint unreachable');
    recorder.giveUp('second reason');
    expect(recorder.giveUpSignal.aborted).toBe(true);
    expect(recorder.failure).toBe('endpoint unreachable');
  });
});
