import { describe, expect, it } from 'vitest';
import { ResponseTap } from '../../src/gateway/tap.js';
import type { GatewayProtocol } from '../../src/gateway/types.js';
import { usageReader } from '../../src/gateway/usage.js';

/** Feeds SSE text to a tap in small, awkwardly cut chunks, as a network would. */
function throughTap(protocol: GatewayProtocol, sse: string, chunk = 7): ResponseTap {
  const tap = new ResponseTap(protocol, true);
  const bytes = Buffer.from(sse);
  for (let i = 0; i < bytes.length; i += chunk) tap.push(bytes.subarray(i, i + chunk));
  tap.end();
  return tap;
}

const event = (name: string | undefined, data: unknown) =>
  `${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

describe('usage from each protocol', () => {
  it('Anthropic: cache reads and writes are input, cache reads are cached, output is the last delta', () => {
    const tap = throughTap(
      'anthropic',
      event('message_start', {
        type: 'message_start',
        message: {
          model: 'claude-sonnet-4-5-20250929',
          usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 },
        },
      }) +
        event('content_block_delta', { type: 'content_block_delta', delta: { type: 'text_delta', text: 'hi' } }) +
        event('message_delta', { type: 'message_delta', usage: { output_tokens: 50 } }),
    );
    expect(tap.usage()).toEqual({
      input_tokens: 125,
      cached_input_tokens: 100,
      output_tokens: 50,
      reasoning_tokens: 0,
    });
    expect(tap.model()).toBe('claude-sonnet-4-5-20250929');
  });

  it('Gemini: thoughts are output and reasoning; the last chunk with usage wins', () => {
    const chunk = (usage: Record<string, number>) =>
      event(undefined, { modelVersion: 'gemini-2.5-pro', usageMetadata: usage });
    const tap = throughTap(
      'gemini',
      chunk({ promptTokenCount: 200, candidatesTokenCount: 3 }) +
        chunk({ promptTokenCount: 200, cachedContentTokenCount: 50, candidatesTokenCount: 30, thoughtsTokenCount: 70 }),
    );
    expect(tap.usage()).toEqual({
      input_tokens: 200,
      cached_input_tokens: 50,
      output_tokens: 100,
      reasoning_tokens: 70,
    });
    expect(tap.model()).toBe('gemini-2.5-pro');
    // streamGenerateContent without alt=sse answers a JSON array.
    const reader = usageReader('gemini');
    reader.json([
      { usageMetadata: { promptTokenCount: 1 } },
      { usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4 } },
    ]);
    expect(reader.usage()).toMatchObject({ input_tokens: 9, output_tokens: 4 });
  });

  it('OpenAI Responses: response.completed carries cached and reasoning tokens', () => {
    const usage = {
      input_tokens: 900,
      input_tokens_details: { cached_tokens: 800 },
      output_tokens: 300,
      output_tokens_details: { reasoning_tokens: 256 },
    };
    const tap = throughTap(
      'openai',
      event('response.created', { type: 'response.created', response: { model: 'gpt-5-2025-08-07', usage: null } }) +
        event('response.output_text.delta', { type: 'response.output_text.delta', delta: 'x' }) +
        event('response.completed', { type: 'response.completed', response: { model: 'gpt-5-2025-08-07', usage } }),
    );
    expect(tap.usage()).toEqual({
      input_tokens: 900,
      cached_input_tokens: 800,
      output_tokens: 300,
      reasoning_tokens: 256,
    });
    expect(tap.model()).toBe('gpt-5-2025-08-07');
  });

  it('OpenAI Chat Completions: the usage chunk, and a JSON body', () => {
    const tap = throughTap(
      'openai',
      `${event(undefined, { model: 'gpt-4.1', choices: [{ delta: { content: 'x' } }] })}${event(undefined, {
        model: 'gpt-4.1',
        choices: [],
        usage: { prompt_tokens: 40, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 32 } },
      })}data: [DONE]\n\n`,
    );
    expect(tap.usage()).toEqual({ input_tokens: 40, cached_input_tokens: 32, output_tokens: 8, reasoning_tokens: 0 });
    const reader = usageReader('openai');
    reader.json({
      model: 'o3',
      usage: { prompt_tokens: 10, completion_tokens: 90, completion_tokens_details: { reasoning_tokens: 80 } },
    });
    expect(reader.usage()).toEqual({
      input_tokens: 10,
      cached_input_tokens: 0,
      output_tokens: 90,
      reasoning_tokens: 80,
    });
  });

  it('reports no usage for answers without any (errors, token counts)', () => {
    for (const protocol of ['anthropic', 'gemini', 'openai'] as const) {
      const reader = usageReader(protocol);
      reader.json({ error: { message: 'nope' } });
      reader.json({ input_tokens: 100 });
      expect(reader.usage()).toBeUndefined();
    }
  });

  it('keeps SSE text whole for the record, and marks a body over the cap as truncated', () => {
    const sse = event('message_stop', { type: 'message_stop' });
    expect(throughTap('anthropic', sse).recorded()).toEqual({ response: sse, truncated: false });
    const small = new ResponseTap('openai', false, 10);
    small.push(Buffer.from('{"usage": {"prompt_tokens": 1}}'));
    small.end();
    expect(small.recorded().truncated).toBe(true);
  });
});
