import { z } from 'zod';
import type { RunRecorder } from '../cli/recorder.js';
import { contentText, parseEvent, parseJsonLine } from '../cli/stream.js';
import type { AgentRunContext, Usage } from '../types.js';

/**
 * Reads the ACP bridge's JSONL (src/agents/acp/bridge.mjs) into the run's events: the agent's message chunks
 * become messages, its tool calls tool_call events once they complete or fail, the commands it had the bridge run
 * (terminal/create) command events with their exit codes; plans, permissions and the stop reason go to the
 * session log. Usage only when the agent reported token counts in its prompt response: ACP has none otherwise.
 */

const toolCallFields = z.looseObject({
  toolCallId: z.string(),
  title: z.string().nullish(),
  name: z.string().nullish(),
  kind: z.string().nullish(),
  status: z.string().nullish(),
  content: z.array(z.looseObject({ type: z.string() })).nullish(),
  rawInput: z.unknown().optional(),
  rawOutput: z.unknown().optional(),
  _meta: z.record(z.string(), z.unknown()).nullish(),
});

const update = z.looseObject({
  sessionUpdate: z.string(),
  content: z.unknown().optional(),
  entries: z.array(z.looseObject({ content: z.string(), status: z.string().optional() })).optional(),
});

const promptUsage = z.looseObject({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedReadTokens: z.number().nullish(),
  cachedWriteTokens: z.number().nullish(),
});

const bridgeEvent = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('initialized'),
    protocolVersion: z.unknown().optional(),
    agentInfo: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).nullish(),
  }),
  z.looseObject({ type: z.literal('session'), sessionId: z.string() }),
  z.looseObject({ type: z.literal('update'), update }),
  z.looseObject({
    type: z.literal('permission'),
    toolCall: z.looseObject({ title: z.string().nullish(), toolCallId: z.string().optional() }),
    chosen: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('terminal'),
    terminalId: z.string(),
    command: z.string(),
    exitCode: z.number().nullable(),
    signal: z.string().nullable().optional(),
    output: z.string(),
    durationMs: z.number(),
  }),
  z.looseObject({ type: z.literal('stop'), stopReason: z.string(), usage: z.unknown().optional() }),
  z.looseObject({ type: z.literal('cancel') }),
  z.looseObject({ type: z.literal('agent_exit'), code: z.number().nullable(), signal: z.string().nullable() }),
  z.looseObject({ type: z.literal('error'), message: z.string() }),
]);
type BridgeEvent = z.infer<typeof bridgeEvent>;
type ToolCall = z.infer<typeof toolCallFields> & { terminals: Set<string> };

const FINISHED = new Set(['completed', 'failed']);

export class AcpStreamParser {
  usage: Usage | undefined;
  stopReason: string | undefined;
  private text = '';
  private readonly calls = new Map<string, ToolCall>();
  private readonly terminals = new Set<string>();

  constructor(
    private readonly recorder: RunRecorder,
    private readonly log: AgentRunContext['log'],
  ) {}

  onLine(line: string): void {
    const event = parseEvent(bridgeEvent, parseJsonLine(line));
    if (!event) return;
    if (event.type !== 'update' || event.update.sessionUpdate !== 'agent_message_chunk') this.flushText();
    this.onEvent(event);
  }

  /** The agent's message so far, as one message (chunks arrive a few words at a time). */
  flushText(): void {
    if (this.text !== '') this.recorder.message('assistant', this.text);
    this.text = '';
  }

  private note(text: string): void {
    this.log.record({ type: 'note', text: `acp: ${text}` });
  }

  private onEvent(event: BridgeEvent): void {
    switch (event.type) {
      case 'initialized':
        this.note(`agent ${event.agentInfo?.name ?? '(unnamed)'} ${event.agentInfo?.version ?? ''}`.trimEnd());
        return;
      case 'update':
        this.onUpdate(event.update);
        return;
      case 'permission':
        this.note(`permission auto-approved (${event.chosen ?? 'no option offered'}): ${event.toolCall.title ?? ''}`);
        return;
      case 'terminal':
        this.terminals.add(event.terminalId);
        this.recorder.command({
          command: event.command,
          exitCode: event.exitCode ?? undefined,
          output: event.output,
          durationMs: event.durationMs,
        });
        return;
      case 'stop':
        this.stopReason = event.stopReason;
        this.usage = usageOf(event.usage);
        this.note(`prompt ended: ${event.stopReason}`);
        return;
      case 'cancel':
        this.note('stopped: session/cancel sent');
        return;
      case 'agent_exit':
        if (this.stopReason === undefined)
          this.note(`the agent process exited (${event.signal ?? `code ${event.code}`}) before the prompt ended`);
        return;
      case 'error':
        this.recorder.failure ??= event.message;
        return;
      case 'session':
        return;
    }
  }

  private onUpdate(raw: z.infer<typeof update>): void {
    switch (raw.sessionUpdate) {
      case 'agent_message_chunk': {
        const block = raw.content as { type?: unknown; text?: unknown } | undefined;
        if (block?.type === 'text' && typeof block.text === 'string') this.text += block.text;
        this.agentResponded();
        return;
      }
      case 'agent_thought_chunk':
        this.agentResponded();
        return;
      case 'tool_call':
      case 'tool_call_update': {
        const fields = toolCallFields.safeParse(raw);
        if (fields.success) this.onToolCall(fields.data);
        this.agentResponded();
        return;
      }
      case 'plan':
        this.note(`plan: ${(raw.entries ?? []).map((e) => `[${e.status ?? 'pending'}] ${e.content}`).join('; ')}`);
        return;
    }
  }

  /** ACP does not count model calls; a response of any kind means at least one was made. */
  private agentResponded(): void {
    if (this.recorder.modelCalls === 0) this.recorder.modelCalls = 1;
  }

  private onToolCall(fields: z.infer<typeof toolCallFields>): void {
    const known = this.calls.get(fields.toolCallId);
    const call: ToolCall = {
      ...known,
      ...withoutNullish(fields),
      toolCallId: fields.toolCallId,
      terminals: known?.terminals ?? new Set(),
    };
    for (const block of fields.content ?? [])
      if (block.type === 'terminal' && typeof block.terminalId === 'string') call.terminals.add(block.terminalId);
    this.calls.set(fields.toolCallId, call);
    if (!FINISHED.has(call.status ?? '')) return;
    this.calls.delete(fields.toolCallId);
    // A command the bridge ran for this call is already recorded, with its exit code.
    if ([...call.terminals].some((id) => this.terminals.has(id))) return;
    const tool = toolName(call);
    this.recorder.toolCall({
      tool,
      input: call.rawInput,
      output: toolOutput(call),
      isError: call.status === 'failed',
    });
    const input = call.rawInput as { skill?: unknown } | undefined;
    if (tool === 'Skill' && call.status === 'completed' && typeof input?.skill === 'string')
      this.recorder.skill(input.skill, 'Skill tool');
  }
}

function withoutNullish<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

/** The agent's own name for the tool when it says it (Claude Code's in _meta), else the ACP title or kind. */
function toolName(call: ToolCall): string {
  const claudeCode = call._meta?.claudeCode as { toolName?: unknown } | undefined;
  if (typeof claudeCode?.toolName === 'string') return claudeCode.toolName;
  return call.name ?? call.title ?? call.kind ?? 'tool';
}

function toolOutput(call: ToolCall): string | undefined {
  const texts = (call.content ?? []).map((block) => {
    if (block.type === 'content') return contentText([block.content]);
    if (block.type === 'diff') return `diff ${String(block.path ?? '')}`;
    return '';
  });
  const text = texts.filter((t) => t !== '').join('\n');
  if (text !== '') return text;
  return call.rawOutput === undefined ? undefined : contentText(call.rawOutput);
}

function usageOf(raw: unknown): Usage | undefined {
  const usage = promptUsage.safeParse(raw);
  if (!usage.success) return undefined;
  // As the agent counts them: ACP does not say whether its input tokens include the cached ones.
  return {
    inputTokens: usage.data.inputTokens,
    outputTokens: usage.data.outputTokens,
    cachedInputTokens: usage.data.cachedReadTokens ?? 0,
  };
}
