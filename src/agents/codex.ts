import { posix } from 'node:path';
import { stringify as stringifyToml } from 'smol-toml';
import { z } from 'zod';
import { estimateCost } from '../gateway/prices.js';
import { baseUrl, requireKey, shellSplit } from './cli/env.js';
import { type AgentPackage, ensureInstalledOutsideTrial } from './cli/install.js';
import type { RunRecorder } from './cli/recorder.js';
import { cliCommand, finishRun, locateCli, newRecorder, runCli } from './cli/run.js';
import { parseEvent, parseJsonLine } from './cli/stream.js';
import type { Agent, AgentRunContext, AgentRunResult, Usage } from './types.js';

/**
 * OpenAI Codex CLI (`@openai/codex`), headless: `codex exec --json --skip-git-repo-check
 * --dangerously-bypass-approvals-and-sandbox -m <model> -`, the prompt on stdin (then closed). The endpoint is
 * a custom Responses-API provider in `~/.codex/config.toml` (OPENAI_BASE_URL, or api.openai.com). Skills:
 * `.agents/skills/<name>/SKILL.md`, listed in its prompt and read as files (there is no skill tool).
 */

export const CODEX_PACKAGE: AgentPackage = {
  agent: 'codex',
  npmPackage: '@openai/codex',
  version: '0.169.0',
  launch: [
    // The native binary directly (no Node needed in an image); the JS wrapper only locates it.
    ...codexTargets().map((t) => ({ path: `node_modules/@openai/codex-${t.pkg}/vendor/${t.triple}/bin/codex` })),
    { path: 'node_modules/@openai/codex/bin/codex.js', node: true },
  ],
};

function codexTargets(): Array<{ pkg: string; triple: string }> {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const pkgArch = process.arch === 'arm64' ? 'arm64' : 'x64';
  if (process.platform === 'darwin') return [{ pkg: `darwin-${pkgArch}`, triple: `${arch}-apple-darwin` }];
  return [{ pkg: `linux-${pkgArch}`, triple: `${arch}-unknown-linux-musl` }];
}

/** The newest model in Codex 0.169's own catalog (known to it: no "fallback metadata" warning). */
export const CODEX_DEFAULT_MODEL = 'gpt-5.5';
const DEFAULT_OPENAI_URL = 'https://api.openai.com/v1';

const item = z.looseObject({
  id: z.string().optional(),
  type: z.string(),
  text: z.string().optional(),
  message: z.string().optional(),
  command: z.string().optional(),
  aggregated_output: z.string().optional(),
  exit_code: z.number().nullable().optional(),
  status: z.string().optional(),
  changes: z.array(z.looseObject({ path: z.string(), kind: z.string().optional() })).optional(),
  server: z.string().optional(),
  tool: z.string().optional(),
  arguments: z.unknown().optional(),
  result: z.unknown().optional(),
  error: z.unknown().optional(),
  query: z.string().optional(),
});

const codexEvent = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('thread.started') }),
  z.looseObject({ type: z.literal('turn.started') }),
  z.looseObject({
    type: z.literal('turn.completed'),
    usage: z
      .looseObject({
        input_tokens: z.number().optional(),
        cached_input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
      })
      .optional(),
  }),
  z.looseObject({
    type: z.literal('turn.failed'),
    error: z.looseObject({ message: z.string().optional() }).optional(),
  }),
  z.looseObject({ type: z.literal('error'), message: z.string().optional() }),
  z.looseObject({ type: z.enum(['item.started', 'item.updated', 'item.completed']), item }),
]);
type CodexItem = z.infer<typeof item>;

/** `/bin/bash -c 'superlint check'` → `superlint check`: the command as the model wrote it. */
export function unwrapShell(command: string): string {
  const words = shellSplit(command);
  if (words?.length === 3 && /^(?:\S*\/)?(?:ba|z)?sh$/.test(words[0]!) && /^-l?c$/.test(words[1]!)) return words[2]!;
  return command;
}

/** Reconnect notices in a row after which an endpoint counts as unreachable (about 15 s, then about 2.5 min). */
const UNREACHABLE_RECONNECTS_AT_START = 3;
const UNREACHABLE_RECONNECTS_LATER = 6;

/** Reads `codex exec --json`: one thread/turn/item event per line. */
class CodexStreamParser {
  private readonly usageTotals = { input: 0, cached: 0, output: 0, turns: 0 };
  private sawUsage = false;
  /** "Reconnecting… waiting for network" notices since the last thing that worked. */
  private reconnects = 0;
  /** When each item started (item.started), for command durations. */
  private readonly started = new Map<string, number>();

  constructor(
    private readonly recorder: RunRecorder,
    private readonly log: AgentRunContext['log'],
  ) {}

  onLine(line: string): void {
    const event = parseEvent(codexEvent, parseJsonLine(line));
    if (!event) return;
    switch (event.type) {
      case 'turn.completed':
        this.sawUsage = true;
        this.usageTotals.turns += 1;
        this.usageTotals.input += event.usage?.input_tokens ?? 0;
        this.usageTotals.cached += event.usage?.cached_input_tokens ?? 0;
        this.usageTotals.output += event.usage?.output_tokens ?? 0;
        return;
      case 'turn.failed':
        this.recorder.failure = event.error?.message ?? 'turn failed';
        return;
      case 'error':
        // Stream errors and reconnect notices; fatal ones end in turn.failed or a non-zero exit.
        this.log.record({ type: 'note', text: `codex: ${event.message ?? 'error'}` });
        if (/Reconnecting/i.test(event.message ?? '')) {
          this.reconnects += 1;
          // Codex waits for an unreachable endpoint forever (5 s, 10 s, 20 s… apart), whatever its retry settings.
          const limit = this.recorder.modelCalls === 0 ? UNREACHABLE_RECONNECTS_AT_START : UNREACHABLE_RECONNECTS_LATER;
          if (this.reconnects >= limit)
            this.recorder.giveUp(
              `model endpoint unreachable: ${event.message ?? 'reconnecting'} (${this.reconnects} times)`,
            );
        }
        return;
      case 'item.started':
        if (event.item.id) this.started.set(event.item.id, performance.now());
        return;
      case 'item.completed':
        this.reconnects = 0;
        this.onItem(event.item);
        return;
      default:
        return;
    }
  }

  private onItem(entry: CodexItem): void {
    switch (entry.type) {
      case 'agent_message':
        this.recorder.modelCalls += 1;
        this.recorder.message('assistant', entry.text ?? '');
        return;
      case 'reasoning':
        return;
      case 'command_execution':
        this.recorder.modelCalls += 1;
        this.recorder.command({
          command: unwrapShell(entry.command ?? ''),
          exitCode: entry.exit_code ?? undefined,
          output: entry.aggregated_output,
          durationMs: this.durationOf(entry.id),
        });
        return;
      case 'file_change':
        this.recorder.modelCalls += 1;
        this.recorder.toolCall({
          tool: 'apply_patch',
          input: { changes: entry.changes },
          output: entry.status,
          isError: entry.status === 'failed',
        });
        return;
      case 'mcp_tool_call':
        this.recorder.modelCalls += 1;
        this.recorder.toolCall({
          tool: `${entry.server ?? 'mcp'}.${entry.tool ?? '?'}`,
          input: entry.arguments,
          output: entry.result === undefined ? undefined : JSON.stringify(entry.result),
          isError: entry.status === 'failed',
        });
        return;
      case 'web_search':
        this.recorder.modelCalls += 1;
        this.recorder.toolCall({ tool: 'web_search', input: { query: entry.query } });
        return;
      case 'error':
        // Warnings such as "Model metadata … not found" arrive as error items; the run goes on.
        this.log.record({ type: 'note', text: `codex: ${entry.message ?? 'error item'}` });
        return;
      default:
        this.recorder.toolCall({ tool: entry.type, input: entry });
    }
  }

  private durationOf(id: string | undefined): number | undefined {
    const started = id === undefined ? undefined : this.started.get(id);
    return started === undefined ? undefined : Math.round(performance.now() - started);
  }

  usage(model: string): Usage | undefined {
    if (!this.sawUsage) return undefined;
    const usage: Usage = {
      inputTokens: this.usageTotals.input,
      cachedInputTokens: this.usageTotals.cached,
      outputTokens: this.usageTotals.output,
      turns: this.recorder.modelCalls,
    };
    const cost = estimateCost(model, usage);
    return cost === undefined ? usage : { ...usage, costUsd: cost, costEstimated: true };
  }
}

/** `~/.codex/config.toml`: one custom Responses-API provider, login shells off, no analytics, updates or plugins. */
export function codexConfig(model: string, url: string | undefined): string {
  return stringifyToml({
    model,
    model_provider: 'skill-eval',
    // A login shell re-reads /etc/profile, which resets PATH (the task's tools vanish); plain `bash -c` keeps it.
    allow_login_shell: false,
    check_for_update_on_startup: false,
    model_providers: {
      'skill-eval': {
        name: url ? 'skill-eval (OPENAI_BASE_URL)' : 'OpenAI (skill-eval)',
        base_url: url ?? DEFAULT_OPENAI_URL,
        env_key: 'OPENAI_API_KEY',
        wire_api: 'responses',
        // Codex's defaults retry a dead endpoint for minutes.
        request_max_retries: 1,
        stream_max_retries: 1,
      },
    },
    analytics: { enabled: false },
    features: { plugins: false },
  });
}

export const codexAgent: Agent = {
  name: 'codex',
  description: `OpenAI Codex CLI ${CODEX_PACKAGE.version} (${CODEX_PACKAGE.npmPackage}), codex exec; default model ${CODEX_DEFAULT_MODEL}`,
  requiredEnv: ['OPENAI_API_KEY'],
  skillDirs: ['.agents/skills'],
  usesSolution: false,
  defaultModel: CODEX_DEFAULT_MODEL,
  install: async (options) => {
    await ensureInstalledOutsideTrial(CODEX_PACKAGE, options);
  },
  // Loaded on demand: it pulls in the Docker engine client.
  imageLayer: async (options) => (await import('./cli/image-layer.js')).agentImageLayer(CODEX_PACKAGE, options),
  async run(context: AgentRunContext): Promise<AgentRunResult> {
    const key = requireKey(context.env, 'OPENAI_API_KEY', 'codex');
    const url = baseUrl(context.env, 'OPENAI_BASE_URL', 'codex');
    const model = context.model ?? CODEX_DEFAULT_MODEL;
    const cli = await locateCli(CODEX_PACKAGE, context.workspace, context.signal);
    const codexHome = posix.join(context.paths.home, '.codex');
    await context.workspace.writeFile(posix.join(codexHome, 'config.toml'), codexConfig(model, url));
    const invocation = cliCommand(cli, [
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '-m',
      model,
      '-',
    ]);
    const recorder = newRecorder(context, codexAgent.skillDirs);
    const parser = new CodexStreamParser(recorder, context.log);
    const outcome = await runCli('codex', context, {
      command: invocation.command,
      stdin: context.instruction,
      env: { ...context.env, OPENAI_API_KEY: key, CODEX_HOME: codexHome, ...invocation.env },
      onLine: (line) => parser.onLine(line),
      giveUp: recorder.giveUpSignal,
    });
    return finishRun('codex', outcome, recorder, parser.usage(model));
  },
};
