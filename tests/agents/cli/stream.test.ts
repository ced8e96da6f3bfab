import { describe, expect, it } from 'vitest';
import { contentText, LineSplitter, parseJsonLine } from '../../../src/agents/cli/stream.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks, drops blank lines, and flushes a last line without a newline', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('{"a":1}\n{"b"');
    splitter.push(':2}\r\n\n  \n{"c"');
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    splitter.push(':3}');
    splitter.flush();
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});

describe('parseJsonLine / contentText', () => {
  it('parses JSON objects and ignores warnings printed to stdout', () => {
    expect(parseJsonLine(' {"type":"x"} ')).toEqual({ type: 'x' });
    expect(parseJsonLine('Warning: 256-color support not detected.')).toBeUndefined();
    expect(parseJsonLine('{"truncated":')).toBeUndefined();
  });

  it('flattens tool results given as text or blocks', () => {
    expect(contentText('plain')).toBe('plain');
    expect(contentText([{ type: 'text', text: 'a' }, { type: 'image' }, 'b'])).toBe('a\nb');
    expect(contentText(undefined)).toBe('');
    expect(contentText({ ok: true })).toBe('{"ok":true}');
  });
});
