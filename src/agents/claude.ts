import { z } from 'zod';
import { baseUrl, requireKey } from './cli/env.js';
import { type AgentPackage, ensureInstalledOutsideTrial } from './cli/install.js';
import type { RunRecorder } from './cli/recorder.js';
import { cliCommand, finishRun, locateCli, newRecorder, runCli } from './cli/run.js';
import { contentText, parseEvent, parseJsonLine } from './cli/stream.js';
import type { Agent, AgentRunContext, AgentRunResult, Usage } from './types.js';

/**
 * Claude Code (`@anthropic-ai/claude-code`), headless: `claude -p --output-format stream-json --verbose
 * --dangerously-skip-permissions --model <model>`, the prompt on stdin. Skills: `.claude/skills/<name>/SKILL.md`
 * in the workdir, used through its `Skill` tool. Usage and cost come from its own `result` event.
 */

export const CLAUDE_PACKAGE: AgentPackage = {
  agent: 'claude',
  npmPackage: '@anthropic-ai/claude-code',
  // The last release whose package.json allows Node 20 (2.1.198+ declare node >=22, although the CLI is a native binary).
  version: '2.1.197',
  launch: [
    // The postinstall copies the native binary over this placeholder; without it, the platform package has it.
    { path: 'node_modules/@anthropic-ai/claude-code/bin/claude.exe', minBytes: 1024 * 1024 },
    ...platformPackages().map((p) => ({ path: `node_modules/@anthropic-ai/claude-code-${p}/claude` })),
  ],
};

function platformPackages(): string[] {
  const base = `${process.platform}-${process.arch}`;
  return process.platform === 'linux' ? [base, `${base}-musl`] : [base];
}

export const CLAUDE_DEFAULT_MODEL = 'claude-sonnet-4-5';

const block = z.looseObject({ type: z.string() });
const toolUse = z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() });
const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const toolResult = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.unknown().optional(),
  is_error: z.boolean().optional(),
});

const claudeEvent = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('system'),
    subtype: z.string().optional(),
    attempt: z.number().optional(),
    error: z.unknown().optional(),
    model: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('assistant'),
    message: z.looseObject({ id: z.string().optional(), model: z.string().optional(), content: z.array(block) }),
  }),
  z.looseObject({
    type: z.literal('user'),
    message: z.looseObject({ content: z.union([z.string(), z.array(block)]) }),
  }),
  z.looseObject({
    type: z.literal('result'),
    subtype: z.string().optional(),
    is_error: z.boolean().optional(),
    result: z.string().optional(),
    num_turns: z.number().optional(),
    total_cost_usd: z.number().optional(),
    usage: z
      .looseObject({
        input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
        cache_read_input_tokens: z.number().optional(),
        cache_creation_input_tokens: z.number().optional(),
      })
      .optional(),
    modelUsage: z
      .record(
        z.string(),
        z.looseObject({
          inputTokens: z.number().optional(),
          outputTokens: z.number().optional(),
          cacheReadInputTokens: z.number().optional(),
          cacheCreationInputTokens: z.number().optional(),
        }),
      )
      .optional(),
  }),
]);
type ClaudeEvent = z.infer<typeof claudeEvent>;

/** Reads Claude Code's stream-json, one event per line. */
class ClaudeStreamParser {
  usage: Usage | undefined;
  private readonly pending = new Map<string, { name: string; input: unknown; started: number }>();
  private readonly responses = new Set<string>();

  constructor(
    private readonly recorder: RunRecorder,
    private readonly log: AgentRunContext['log'],
  ) {}

  onLine(line: string): void {
    const event = parseEvent(claudeEvent, parseJsonLine(line));
    if (event) this.onEvent(event);
  }

  private onEvent(event: ClaudeEvent): void {
    switch (event.type) {
      case 'system':
        if (event.subtype === 'api_retry')
          this.log.record({
            type: 'note',
            text: `claude: API retry ${event.attempt ?? '?'} (${JSON.stringify(event.error ?? 'unknown error')})`,
          });
        return;
      case 'assistant': {
        // `<synthetic>` messages are Claude Code's own (API errors), not model responses.
        if (event.message.model !== '<synthetic>' && event.message.id) {
          this.responses.add(event.message.id);
          this.recorder.modelCalls = this.responses.size;
        }
        for (const raw of event.message.content) {
          const use = toolUse.safeParse(raw);
          if (use.success) {
            this.pending.set(use.data.id, { name: use.data.name, input: use.data.input, started: performance.now() });
            continue;
          }
          const text = textBlock.safeParse(raw);
          if (text.success) this.recorder.message('assistant', text.data.text);
        }
        return;
      }
      case 'user': {
        if (typeof event.message.content === 'string') return;
        for (const raw of event.message.content) {
          const result = toolResult.safeParse(raw);
          if (result.success)
            this.onToolResult(result.data.tool_use_id, contentText(result.data.content), result.data.is_error === true);
        }
        return;
      }
      case 'result': {
        this.recorder.modelCalls = this.responses.size;
        if (event.result !== undefined && event.result !== '' && !event.is_error)
          this.recorder.finalMessage = event.result;
        if (event.is_error) this.recorder.failure = event.result || event.subtype || 'Claude Code reported an error';
        this.usage = usageOf(event);
        return;
      }
    }
  }

  private onToolResult(id: string, output: string, isError: boolean): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    const input = call.input && typeof call.input === 'object' ? (call.input as Record<string, unknown>) : {};
    if (call.name === 'Bash' && typeof input.command === 'string') {
      // Claude Code reports a failed command as an error result starting "Exit code N".
      const exit = /^Exit code (\d+)/.exec(output);
      this.recorder.command({
        command: input.command,
        exitCode: exit ? Number(exit[1]) : isError ? undefined : 0,
        output,
        durationMs: Math.round(performance.now() - call.started),
      });
      return;
    }
    this.recorder.toolCall({ tool: call.name, input: call.input, output, isError });
    if (call.name === 'Skill' && !isError && typeof input.skill === 'string')
      this.recorder.skill(input.skill, 'Skill tool');
  }
}

function usageOf(event: Extract<ClaudeEvent, { type: 'result' }>): Usage {
  // modelUsage covers every model the run used (side calls included); usage only the main one.
  const perModel = event.modelUsage ? Object.values(event.modelUsage) : [];
  const sums = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  if (perModel.length > 0) {
    for (const m of perModel) {
      sums.input += m.inputTokens ?? 0;
      sums.output += m.outputTokens ?? 0;
      sums.cacheRead += m.cacheReadInputTokens ?? 0;
      sums.cacheWrite += m.cacheCreationInputTokens ?? 0;
    }
  } else {
    sums.input = event.usage?.input_tokens ?? 0;
    sums.output = event.usage?.output_tokens ?? 0;
    sums.cacheRead = event.usage?.cache_read_input_tokens ?? 0;
    sums.cacheWrite = event.usage?.cache_creation_input_tokens ?? 0;
  }
  // Anthropic counts cache reads and writes apart from input_tokens; skill-eval's inputTokens includes them.
  return {
    inputTokens: sums.input + sums.cacheRead + sums.cacheWrite,
    outputTokens: sums.output,
    cachedInputTokens: sums.cacheRead,
    costUsd: event.total_cost_usd,
    costEstimated: event.total_cost_usd === undefined ? undefined : false,
    turns: event.num_turns,
  };
}

/** Claude Code's environment: the key, an optional gateway, and no telemetry, updates or long retry loops. */
function claudeEnv(env: Record<string, string>): Record<string, string> {
  const key = requireKey(env, 'ANTHROPIC_API_KEY', 'claude');
  const url = baseUrl(env, 'ANTHROPIC_BASE_URL', 'claude');
  return {
    ...env,
    ANTHROPIC_API_KEY: key,
    ...(url ? { ANTHROPIC_BASE_URL: url } : {}),
    // --dangerously-skip-permissions is refused as root unless the CLI is told it is sandboxed.
    IS_SANDBOX: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    // The default (10 retries with backoff) keeps a dead endpoint busy for minutes.
    CLAUDE_CODE_MAX_RETRIES: env.CLAUDE_CODE_MAX_RETRIES ?? '2',
  };
}

export const claudeAgent: Agent = {
  name: 'claude',
  description: `Claude Code ${CLAUDE_PACKAGE.version} (${CLAUDE_PACKAGE.npmPackage}), headless; default model ${CLAUDE_DEFAULT_MODEL}`,
  requiredEnv: ['ANTHROPIC_API_KEY'],
  skillDirs: ['.claude/skills'],
  usesSolution: false,
  defaultModel: CLAUDE_DEFAULT_MODEL,
  install: async (options) => {
    await ensureInstalledOutsideTrial(CLAUDE_PACKAGE, options);
  },
  // Loaded on demand: it pulls in the Docker engine client.
  imageLayer: async (options) => (await import('./cli/image-layer.js')).agentImageLayer(CLAUDE_PACKAGE, options),
  async run(context: AgentRunContext): Promise<AgentRunResult> {
    const env = claudeEnv(context.env);
    const cli = await locateCli(CLAUDE_PACKAGE, context.workspace, context.signal);
    const model = context.model ?? CLAUDE_DEFAULT_MODEL;
    const invocation = cliCommand(cli, [
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      '--model',
      model,
    ]);
    const recorder = newRecorder(context, claudeAgent.skillDirs);
    const parser = new ClaudeStreamParser(recorder, context.log);
    const outcome = await runCli('claude', context, {
      command: invocation.command,
      stdin: context.instruction,
      env: { ...env, ...invocation.env },
      onLine: (line) => parser.onLine(line),
    });
    return finishRun('claude', outcome, recorder, parser.usage);
  },
};
