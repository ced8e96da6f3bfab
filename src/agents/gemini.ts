import { posix } from 'node:path';
import { z } from 'zod';
import { estimateCost } from '../gateway/prices.js';
import { baseUrl, requireKey } from './cli/env.js';
import { type AgentPackage, ensureInstalledOutsideTrial } from './cli/install.js';
import type { RunRecorder } from './cli/recorder.js';
import { cliCommand, finishRun, locateCli, newRecorder, runCli } from './cli/run.js';
import { parseEvent, parseJsonLine } from './cli/stream.js';
import type { Agent, AgentRunContext, AgentRunResult, Usage } from './types.js';

/**
 * Google Gemini CLI (`@google/gemini-cli`, Node ≥ 20), headless: `gemini -p "" -o stream-json --yolo -m <model>`
 * with the prompt on stdin (`-p` is appended to it). `GEMINI_CLI_TRUST_WORKSPACE=true` keeps yolo (and workspace
 * skills) from being silently turned off in an untrusted folder; `~/.gemini/settings.json` selects API-key auth
 * (needed with GOOGLE_GEMINI_BASE_URL), turns off usage statistics and updates, and caps its retries.
 * Skills: `.gemini/skills/<name>/SKILL.md`, opened with its `activate_skill` tool.
 */

export const GEMINI_PACKAGE: AgentPackage = {
  agent: 'gemini',
  npmPackage: '@google/gemini-cli',
  version: '0.61.0',
  launch: [{ path: 'node_modules/@google/gemini-cli/bundle/gemini.js', node: true }],
};

export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-pro';

const geminiEvent = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('init'), model: z.string().optional() }),
  z.looseObject({ type: z.literal('message'), role: z.string(), content: z.string(), delta: z.boolean().optional() }),
  z.looseObject({
    type: z.literal('tool_use'),
    tool_name: z.string(),
    tool_id: z.string(),
    parameters: z.unknown().optional(),
  }),
  z.looseObject({
    type: z.literal('tool_result'),
    tool_id: z.string(),
    status: z.string().optional(),
    output: z.string().optional(),
    error: z.looseObject({ message: z.string().optional() }).optional(),
  }),
  z.looseObject({ type: z.literal('error'), severity: z.string().optional(), message: z.string().optional() }),
  z.looseObject({
    type: z.literal('result'),
    status: z.string(),
    error: z.looseObject({ message: z.string().optional() }).optional(),
    stats: z
      .looseObject({
        input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
        cached: z.number().optional(),
        tool_calls: z.number().optional(),
      })
      .optional(),
  }),
]);

/**
 * Exit codes of shell calls by tool call id, from Gemini CLI's own chat recording
 * (`~/.gemini/tmp/<project>/chats/session-*.jsonl`): its stream shows a command's output but not its exit
 * code, which only the model's copy ("Exit Code: N", present when not 0) has.
 */
function exitCodesFromChatRecording(text: string): Map<string, number> {
  const codes = new Map<string, number>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (typeof record.id === 'string' && record.name === 'run_shell_command' && Array.isArray(record.result)) {
      const output = JSON.stringify(record.result);
      const exit = /Exit Code: (-?\d+)/.exec(output);
      if (exit) codes.set(record.id, Number(exit[1]));
      else if (/Output: /.test(output) && !/Signal: /.test(output)) codes.set(record.id, 0);
      return;
    }
    for (const child of Object.values(record)) visit(child);
  };
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      visit(JSON.parse(line) as unknown);
    } catch {
      // a line being written when the run stopped
    }
  }
  return codes;
}

/**
 * Reads Gemini CLI's stream-json: init, messages (assistant text in deltas), tool_use / tool_result, result.
 * Messages and tool results are recorded when the run ends, once the exit codes are known.
 */
class GeminiStreamParser {
  usage: Usage | undefined;
  private readonly pending = new Map<string, { name: string; input: unknown; started: number }>();
  /** Assistant text streamed in deltas, flushed as one message when something else happens. */
  private assistantText = '';
  /** Whether the last event was the model's (text or tool call): the next model event starts a new response only after a non-model one. */
  private inModelResponse = false;
  /** What to record, in stream order, once exit codes are known (`finish`). */
  private readonly deferred: Array<(exitCodes: ReadonlyMap<string, number>) => void> = [];

  constructor(
    private readonly recorder: RunRecorder,
    private readonly log: AgentRunContext['log'],
    private readonly model: string,
  ) {}

  onLine(line: string): void {
    const event = parseEvent(geminiEvent, parseJsonLine(line));
    if (!event) return;
    if (event.type !== 'message' || event.role !== 'assistant') this.flushText();
    switch (event.type) {
      case 'message':
        if (event.role === 'assistant') {
          this.modelEvent();
          this.assistantText += event.content;
        } else {
          this.inModelResponse = false;
        }
        return;
      case 'tool_use':
        this.modelEvent();
        this.pending.set(event.tool_id, { name: event.tool_name, input: event.parameters, started: performance.now() });
        return;
      case 'tool_result':
        this.inModelResponse = false;
        this.onToolResult(event.tool_id, event.status !== 'error', event.output ?? event.error?.message ?? '');
        return;
      case 'error':
        this.log.record({ type: 'note', text: `gemini ${event.severity ?? 'error'}: ${event.message ?? ''}` });
        return;
      case 'result':
        if (event.status !== 'success') this.recorder.failure = event.error?.message ?? `result status ${event.status}`;
        if (event.stats) this.usage = this.usageOf(event.stats);
        return;
      default:
        return;
    }
  }

  /** Ends the stream: records everything, with the exit codes from the chat recording (its text, when readable). */
  finish(chatRecording: string | undefined): void {
    this.flushText();
    const codes = chatRecording === undefined ? new Map<string, number>() : exitCodesFromChatRecording(chatRecording);
    for (const record of this.deferred.splice(0)) record(codes);
  }

  private modelEvent(): void {
    if (this.inModelResponse) return;
    this.inModelResponse = true;
    this.recorder.modelCalls += 1;
  }

  private flushText(): void {
    if (this.assistantText === '') return;
    const text = this.assistantText;
    this.deferred.push(() => this.recorder.message('assistant', text));
    this.assistantText = '';
  }

  private onToolResult(id: string, ok: boolean, output: string): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    const durationMs = Math.round(performance.now() - call.started);
    this.deferred.push((codes) => this.recordTool(id, call, ok, output, durationMs, codes));
  }

  private recordTool(
    id: string,
    call: { name: string; input: unknown },
    ok: boolean,
    output: string,
    durationMs: number,
    codes: ReadonlyMap<string, number>,
  ): void {
    const input = call.input && typeof call.input === 'object' ? (call.input as Record<string, unknown>) : {};
    if (call.name === 'run_shell_command' && typeof input.command === 'string') {
      this.recorder.command({ command: input.command, exitCode: codes.get(id), output, durationMs });
      return;
    }
    this.recorder.toolCall({ tool: call.name, input: call.input, output, isError: !ok });
    if (call.name === 'activate_skill' && ok && typeof input.name === 'string')
      this.recorder.skill(input.name, 'activate_skill tool');
  }

  private usageOf(stats: {
    input_tokens?: number | undefined;
    output_tokens?: number | undefined;
    cached?: number | undefined;
  }): Usage {
    // input_tokens is the prompt total (cached included), like skill-eval's inputTokens.
    const usage: Usage = {
      inputTokens: stats.input_tokens ?? 0,
      outputTokens: stats.output_tokens ?? 0,
      cachedInputTokens: stats.cached ?? 0,
      turns: this.recorder.modelCalls,
    };
    const cost = estimateCost(this.model, usage);
    return cost === undefined ? usage : { ...usage, costUsd: cost, costEstimated: true };
  }
}

/** `~/.gemini/settings.json`. */
export function geminiSettings(): string {
  return `${JSON.stringify(
    {
      // With GOOGLE_GEMINI_BASE_URL (or any GEMINI_API_KEY use) the CLI must be told to use API-key auth.
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      // maxAttempts defaults to 10 with backoff: minutes against a dead endpoint.
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 3 },
      skills: { enabled: true },
    },
    undefined,
    2,
  )}\n`;
}

export const geminiAgent: Agent = {
  name: 'gemini',
  description: `Google Gemini CLI ${GEMINI_PACKAGE.version} (${GEMINI_PACKAGE.npmPackage}), headless; default model ${GEMINI_DEFAULT_MODEL}`,
  requiredEnv: ['GEMINI_API_KEY'],
  skillDirs: ['.gemini/skills'],
  usesSolution: false,
  defaultModel: GEMINI_DEFAULT_MODEL,
  install: async (options) => {
    await ensureInstalledOutsideTrial(GEMINI_PACKAGE, options);
  },
  // Loaded on demand: it pulls in the Docker engine client.
  imageLayer: async (options) => (await import('./cli/image-layer.js')).agentImageLayer(GEMINI_PACKAGE, options),
  async run(context: AgentRunContext): Promise<AgentRunResult> {
    const key = requireKey(context.env, 'GEMINI_API_KEY', 'gemini');
    const url = baseUrl(context.env, 'GOOGLE_GEMINI_BASE_URL', 'gemini');
    const model = context.model ?? GEMINI_DEFAULT_MODEL;
    const cli = await locateCli(GEMINI_PACKAGE, context.workspace, context.signal);
    await context.workspace.writeFile(posix.join(context.paths.home, '.gemini', 'settings.json'), geminiSettings());
    const invocation = cliCommand(cli, ['-p', '', '-o', 'stream-json', '--yolo', '-m', model]);
    const recorder = newRecorder(context, geminiAgent.skillDirs);
    const parser = new GeminiStreamParser(recorder, context.log, model);
    const outcome = await runCli('gemini', context, {
      command: invocation.command,
      stdin: context.instruction,
      env: {
        ...context.env,
        GEMINI_API_KEY: key,
        ...(url ? { GOOGLE_GEMINI_BASE_URL: url } : {}),
        GEMINI_CLI_TRUST_WORKSPACE: 'true',
        // No colour codes or terminal probing in captured output.
        NO_COLOR: '1',
        ...invocation.env,
      },
      onLine: (line) => parser.onLine(line),
    });
    // The chat recording holds the exit codes; it is this trial's only session (HOME is per trial).
    const recording = await context.workspace
      .exec('cat "$HOME"/.gemini/tmp/*/chats/session-*.json* 2>/dev/null', { timeoutMs: 30_000 })
      .then((r) => r.stdout)
      .catch(() => undefined);
    parser.finish(recording);
    return finishRun('gemini', outcome, recorder, parser.usage);
  },
};
